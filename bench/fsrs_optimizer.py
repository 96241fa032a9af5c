"""The FSRS optimizer on simulated students: do fitted parameters predict each student's most
recent reviews better than the defaults, and what does a fit cost?

Part 1: 20 students, each with its own true FSRS-6 model (bench/fsrs_simulation.py), each
studying until 5,000 reviews are logged, scheduled by the defaults (what a new user has). The
optimizer (lib/aksio/study/optimizer.py) fits on the earlier 80% of each student's review days
and both parameter sets are scored on the latest 20%: log loss (lower is better).

Part 2: one fit over 50,000 review logs: wall time and peak memory (tracemalloc sees Python's
allocations; the peak resident set size includes the Rust side).

Run: ``.venv/bin/python bench/fsrs_optimizer.py`` (``--students``, ``--reviews``).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
from fsrs_simulation import DEFAULT, Student, student_parameters  # noqa: E402

from aksio.study import optimizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--reviews", type=int, default=5000)
    parser.add_argument("--big", type=int, default=50_000, help="review logs of the timed fit")
    args = parser.parse_args()

    print(f"{'student':>7} {'reviews':>7} {'test items':>10} {'default LL':>10} {'fitted LL':>9} {'adopted':>7}")
    before, after, wins = [], [], 0
    for s in range(args.students):
        rng = random.Random(1000 + s)
        logs = Student(student_parameters(rng), rng).study(args.reviews, DEFAULT)
        fit = optimizer.optimise(None, optimizer.reviews_of(logs))
        assert fit is not None
        before.append(fit.current.log_loss)
        after.append(fit.fitted.log_loss)
        wins += fit.adopted
        print(
            f"{s + 1:>7} {len(logs):>7} {fit.fitted.items:>10} {fit.current.log_loss:>10.4f} "
            f"{fit.fitted.log_loss:>9.4f} {'yes' if fit.adopted else 'no':>7}",
            flush=True,
        )
    print(
        f"fitted beat the defaults for {wins} of {args.students} students; "
        f"mean log loss {statistics.fmean(before):.4f} -> {statistics.fmean(after):.4f}"
    )

    rng = random.Random(7)
    student = Student(student_parameters(rng), rng, new_per_day=60)
    logs = student.study(args.big, DEFAULT)
    reviews = optimizer.reviews_of(logs)
    started = time.perf_counter()
    fit = optimizer.optimise(None, reviews)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert fit is not None
    print(
        f"one fit over {len(logs):,} review logs ({fit.train_items:,} training items): {seconds:.1f} s, "
        f"peak RSS of this process {peak_mib:.0f} MiB (simulation included)"
    )


if __name__ == "__main__":
    main()
