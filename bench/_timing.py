"""Side-by-side timing with hyperfine, interleaved so that both tools see the same machine.

On a shared VM the load drifts over a minute; timing all of one tool's runs and then all of the
other's lets that drift decide a close comparison. :func:`interleaved` runs hyperfine in
several short rounds, alternating which command goes first, and takes the median over every
run of every round.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from pathlib import Path


def interleaved(
    commands: dict[str, str],
    runs: int,
    prepare: dict[str, str] | None,
    out: Path,
    *,
    per_round: int = 3,
    shell: bool = False,
) -> dict[str, float]:
    """Median wall time (seconds) of each command over ``runs`` runs, in rounds of ``per_round``.

    ``prepare`` maps a command name to a shell command run before each of its runs (cold
    caches); without it, each round starts with one warm-up run per command. ``shell`` runs the
    commands through a shell (needed for ``env VAR=...`` prefixes when ``prepare`` is None).
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    done = 0
    while done < runs:
        n = min(per_round, runs - done)
        argv = ["hyperfine", "--runs", str(n), "--export-json", str(out), "--style", "none"]
        if prepare is None:
            argv += ["--warmup", "1"]
        if not shell and prepare is None:
            argv += ["-N"]
        for name in names:
            if prepare is not None:
                argv += ["--prepare", prepare[name]]
            argv += ["--command-name", name, commands[name]]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        for result in json.loads(out.read_text())["results"]:
            times[result["command"]] += [float(t) for t in result["times"]]
        names.reverse()  # the other command goes first next round
        done += n
    return {name: statistics.median(ts) for name, ts in times.items()}
