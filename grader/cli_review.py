"""`grader review OUT`: serve the review queue on 127.0.0.1 (grader/review/)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("review", help="grade the items needing a person in the browser (local web app)")
    p.add_argument("out", metavar="OUT", help="the output folder of `grader run` (holds gradebook.sqlite)")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)")
    p.add_argument("--by", default=None, help="reviewer name recorded with each grade (default: $USER)")
    p.add_argument("--overrides", default=None, metavar="FILE",
                   help="the overrides file to write (default: OUT/overrides.yaml)")


def run(args: argparse.Namespace) -> int:
    from grader.review.app import create_app, serve

    try:
        app = create_app(args.out, reviewer=args.by, overrides=args.overrides)
    except FileNotFoundError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    try:
        server = serve(app, "127.0.0.1", args.port)
    except OSError as exc:
        print(f"grader: error: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
              "pass another --port (0 picks a free one)", file=sys.stderr)
        return 2
    print(f"review queue: http://127.0.0.1:{server.port}/  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
