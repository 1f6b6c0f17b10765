from django.core.management.base import BaseCommand, CommandError

from similarity.calibration import DEFAULT_SAMPLES, calibration_compute
from similarity.engine import CALIBRATION_K, CALIBRATION_LENGTHS, DEFAULT_HORIZONS


def _numbers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"{text!r} is not a list of whole numbers such as 20,60,120") from None
    if not values or any(v < 1 for v in values):
        raise CommandError(f"{text!r}: give positive whole numbers such as 20,60,120")
    return values


class Command(BaseCommand):
    help = (
        "Walk-forward calibration: draw random past patterns, search each only in the data "
        "before it began, and store how often what followed fell inside the fan's bands."
    )

    def add_arguments(self, parser):
        parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES)
        parser.add_argument("--lengths", default=",".join(map(str, CALIBRATION_LENGTHS)))
        parser.add_argument("--horizons", default=",".join(map(str, DEFAULT_HORIZONS)))
        parser.add_argument("--k", type=int, default=CALIBRATION_K)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        if options["samples"] < 1:
            raise CommandError("--samples must be at least 1")
        from similarity.engine import MAX_LENGTH, MIN_LENGTH

        lengths = _numbers(options["lengths"])
        if any(not MIN_LENGTH <= m <= MAX_LENGTH for m in lengths):
            raise CommandError(f"--lengths must lie from {MIN_LENGTH} to {MAX_LENGTH}")
        run = calibration_compute(
            samples=options["samples"],
            lengths=lengths,
            horizons=_numbers(options["horizons"]),
            k=options["k"],
            seed=options["seed"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"calibration {run.pk}: {run.samples} samples in {run.elapsed_seconds:.1f} s "
                f"(seed {run.seed})"
            )
        )
        for row in run.table:
            inside = "-" if row["inside_80"] is None else f"{row['inside_80']:.0%}"
            self.stdout.write(
                f"  m={row['length']:>3} h={row['horizon']:>3}  n={row['count']:>4}  "
                f"inside 10-90: {inside}"
            )
