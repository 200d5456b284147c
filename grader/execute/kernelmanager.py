"""The Jupyter kernel manager whose kernel starts inside the sandbox (grader/execute/sandbox.py).

Apart from the sandbox plan, so that asking whether the sandbox is available (`grader run`'s
checks before grading, `grader doctor`) does not import jupyter_client (about 0.9 s)."""

from __future__ import annotations

from jupyter_client.manager import AsyncKernelManager

from grader.execute.sandbox import SandboxPlan


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped by a SandboxPlan.

    Set `plan` before starting. Everything else (ports, restarts, shutdown, signalling the
    process group) is jupyter_client's own.
    """

    plan: SandboxPlan | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        return self.plan.wrap(cmd) if self.plan else cmd


def make_kernel_manager(plan: SandboxPlan, kernel_name: str = "python3") -> SandboxedKernelManager:
    """A manager on the ipc transport with its connection file and sockets in plan.ipc."""
    km = SandboxedKernelManager(
        kernel_name=kernel_name,
        transport="ipc",
        ip=str(plan.ipc / "k"),
        connection_file=str(plan.ipc / "kernel.json"),
    )
    km.plan = plan
    return km
