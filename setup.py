"""Build hook: what students install holds no solution and no answer key (metadata lives in
pyproject.toml).

setuptools has no setting to leave one module of a package out of a wheel, so `build_py` drops
the files listed in INSTRUCTOR_ONLY, and it replaces each rubric with its student version
(grader/student_rubric.py: public items only, no hidden answer wording), the same file `grader
assign` writes for the self-check. An editable install (`pip install -e .`) maps the source
folders and so still sees the solutions and the full rubrics: that is how instructors grade.
"""

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: (package, module) pairs that must never reach what students install
INSTRUCTOR_ONLY = {("reference", "models")}


def _student_rubric_module():
    # by path: importing the grader package at build time would need its dependencies
    path = Path(__file__).resolve().parent / "grader" / "student_rubric.py"
    spec = importlib.util.spec_from_file_location("_grader_student_rubric", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithoutSolutions(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if (m[0], m[1]) not in INSTRUCTOR_ONLY]

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        student = _student_rubric_module()
        for rubric in sorted((Path(self.build_lib) / "rubrics").glob("*.yaml")):
            text = student.student_rubric_text(rubric.read_text(encoding="utf-8"),
                                               written_by="the wheel build")
            rubric.write_text(text, encoding="utf-8")


setup(cmdclass={"build_py": BuildPyWithoutSolutions})
