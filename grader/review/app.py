"""The review queue as a small local web app (Flask): `grader review OUT`.

Flask because it is the best-known small WSGI framework, renders the Jinja templates the reports
already use, and its development server (werkzeug, threaded) is enough for a few TAs on one
machine. The gradebook is the store: every save goes through `Gradebook.override` (the
overrides file under an fcntl lock, then one SQLite transaction), then the student's report,
the class report and the CSV are re-rendered from the gradebook, so nothing else needs saving.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, abort, redirect, render_template, request, send_from_directory, url_for
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader

from grader.gradebook import DEFAULT_NAME, Gradebook, GradebookError
from grader.overrides import _login
from grader.report import view
from grader.review.queue import REASON_WORDS, build_queue, next_pending

REVIEWER_COOKIE = "grader_reviewer"


def create_app(out: str | Path, *, reviewer: str | None = None, overrides: str | Path | None = None) -> Flask:
    """The app over OUT (its gradebook.sqlite, overrides.yaml and reports)."""
    out = Path(out).resolve()
    book_path = out / DEFAULT_NAME
    if not book_path.is_file():
        raise FileNotFoundError(f"{out}: no {DEFAULT_NAME} there; grade first (grader run ... --out {out})")
    overrides_path = Path(overrides).resolve() if overrides else None
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(Path(__file__).parent / "templates")),
                                     PackageLoader("grader", "report/templates")])
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(number_ok=view.number_ok, report_name=view.report_name, quote=quote,
                                 reasons=REASON_WORDS)
    default_reviewer = reviewer or os.environ.get("USER") or _login()

    def state() -> tuple[list[Any], list[Any]]:
        with Gradebook(book_path) as book:
            results = book.current(overrides_path)
        return results, build_queue(results)

    def who() -> str:
        return request.cookies.get(REVIEWER_COOKIE) or default_reviewer

    @app.get("/")
    def index():
        results, queue = state()
        questions: dict[str, dict[str, Any]] = {}
        for e in queue:
            q = questions.setdefault(e.question, {"id": e.question, "total": 0, "done": 0, "first": None})
            q["total"] += 1
            q["done"] += e.done
            if not e.done and q["first"] is None:
                q["first"] = e
        first = next_pending(queue)
        return render_template("review_index.html.j2", queue=queue, questions=list(questions.values()),
                               first=first, reviewer=who(), students=len(results))

    @app.get("/item/<student>/<item_id>")
    def item(student: str, item_id: str):
        results, queue = state()
        result = next((r for r in results if (r.student or r.submission) == student), None)
        if result is None:
            abort(404, f"no student {student!r} in the gradebook")
        try:
            it = result.item(item_id)
        except KeyError:
            abort(404, f"{student} has no item {item_id!r}")
        q = next(q for q in result.questions if any(i.id == item_id for i in q.items))
        entry = next((e for e in queue if e.key == (student, item_id)), None)
        position = [e.key for e in queue].index(entry.key) if entry else None
        same_q = [e for e in queue if e.question == q.id]
        qpanel = view.question_panel(type(q)(id=q.id, score=q.score, max_score=q.max_score, items=[it],
                                             title=q.title), result.diagnostics, False)
        override = view.override_view(it, False)
        return render_template(
            "review_item.html.j2", r=result, q=q, i=it, p=qpanel.items.get(it.id), answer=qpanel.answer,
            answer_cells=qpanel.answer_cells, entry=entry, queue=queue, position=position, same_q=same_q,
            reviewer=who(), override=override, error=request.args.get("error", ""),
            prev=queue[position - 1] if position else None,
            next=queue[position + 1] if position is not None and position + 1 < len(queue) else None,
            cell_base=f"/reports/{quote(view.report_name(result))}",
            comment=(it.evidence.get("override") or {}).get("comment", "") if it.manual else "",
            note=(it.evidence.get("override") or {}).get("note", "") if it.manual else "")

    @app.post("/item/<student>/<item_id>")
    def save(student: str, item_id: str):
        form = request.form
        by = (form.get("by") or who()).strip() or default_reviewer
        try:
            points = float(form.get("points", ""))
        except ValueError:
            return redirect(url_for("item", student=student, item_id=item_id,
                                    error="Give the points as a number, e.g. 4 or 4.5"))
        from grader.report.publish import publish

        try:
            with Gradebook(book_path) as book:
                book.override(student, item_id, points, overrides_path, by=by,
                              comment=form.get("comment", "").strip(), note=form.get("note", "").strip())
                publish(book, out, [student], overrides=overrides_path)
        except GradebookError as exc:
            return redirect(url_for("item", student=student, item_id=item_id, error=str(exc)))
        _, queue = state()
        following = next_pending(queue, after=(student, item_id))
        target = (url_for("item", student=following.student, item_id=following.item_id) if following
                  else url_for("index", finished=1))
        response = redirect(target, code=303)
        response.set_cookie(REVIEWER_COOKIE, by, samesite="Strict", httponly=True)
        return response

    @app.post("/reviewer")
    def set_reviewer():
        response = redirect(url_for("index"), code=303)
        name = (request.form.get("by") or "").strip()
        if name:
            response.set_cookie(REVIEWER_COOKIE, name, samesite="Strict", httponly=True)
        return response

    @app.get("/reports/<path:name>")
    def reports(name: str):
        return send_from_directory(out, name)

    return app


def serve(app: Flask, host: str = "127.0.0.1", port: int = 0):
    """A threaded werkzeug server on host:port (0: any free port); returns it (`.port`, `.serve_forever`)."""
    from werkzeug.serving import make_server

    return make_server(host, port, app, threaded=True)
