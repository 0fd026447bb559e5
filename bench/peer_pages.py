"""The peer harness's runner with every page it compares on, and the tracker as --target pages.

``../shared/peers/peer_runner.py`` measures the Django admin's and the one-query page's deep
page, title sort and change page only with ``--app-dir``, where it also expects an app seeded by
its own ``app_seed.py`` (which reads the tracker's tables as they were on 2026-11-23). Here the
app side is left out (``--app-backends ""`` and no app-side table): the tracker is measured on
its own ``bench/seed.py`` data through ``--target`` URLs in the same run. Called by
``bench/peers.sh`` with the harness's Python; the arguments are the runner's.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    peers = os.environ["PEERS_DIR"]
    sys.path.insert(0, peers)
    import peer_runner

    peer_runner.render_app = lambda *_args, **_kwargs: ""
    sys.argv = [os.path.join(peers, "peer_runner.py"), *sys.argv[1:]]
    peer_runner.main()


if __name__ == "__main__":
    main()
