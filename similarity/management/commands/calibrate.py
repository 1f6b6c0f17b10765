from django.core.management.base import BaseCommand, CommandError

from similarity import limits
from similarity.calibration import DEFAULT_SAMPLES, DEMO_SAMPLES, calibration_compute
from similarity.engine import CALIBRATION_K
from similarity.models import ForecastModel


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
        "before it began, learn the forecast's parameters, and store how often what followed "
        "fell inside its ranges, its skill against the base rate and the verdicts' rates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--samples", type=int, default=None)
        parser.add_argument(
            "--interval",
            choices=limits.INTERVALS,
            default=limits.DEFAULT_INTERVAL,
            help="Daily, weekly or monthly closes: each interval learns its own forecast.",
        )
        parser.add_argument(
            "--lengths",
            default=None,
            help="default per interval: day 20,60,120; week 13,26,52; month 6,12,24",
        )
        parser.add_argument(
            "--horizons",
            default=None,
            help="default per interval: day 5,20,60; week 4,13,26; month 3,6,12",
        )
        parser.add_argument("--k", type=int, default=CALIBRATION_K)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--demo",
            action="store_true",
            help=f"For make run: {DEMO_SAMPLES} samples (unless --samples is given), marked as a "
            "demo sample, and nothing done when a forecast model exists already.",
        )

    def handle(self, *args, **options):
        demo = options["demo"]
        interval = options["interval"]
        if demo and ForecastModel.objects.filter(calibration__interval=interval).exists():
            self.stdout.write("a forecast model exists: the demo calibration is not needed")
            return
        samples = options["samples"]
        if samples is None:
            samples = DEMO_SAMPLES if demo else DEFAULT_SAMPLES
        if samples < 1:
            raise CommandError("--samples must be at least 1")
        lowest, longest = limits.MIN_LENGTH, limits.MAX_LENGTH_BY_INTERVAL[interval]
        lengths = (
            _numbers(options["lengths"])
            if options["lengths"]
            else list(limits.CALIBRATION_LENGTHS_BY_INTERVAL[interval])
        )
        if any(not lowest <= m <= longest for m in lengths):
            raise CommandError(f"--lengths must lie from {lowest} to {longest}")
        horizons = (
            _numbers(options["horizons"])
            if options["horizons"]
            else list(limits.DEFAULT_HORIZONS_BY_INTERVAL[interval])
        )
        run = calibration_compute(
            samples=samples,
            lengths=lengths,
            horizons=horizons,
            interval=interval,
            k=options["k"],
            seed=options["seed"],
            demo=demo,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"calibration {run.pk} ({interval}): {run.samples} samples in "
                f"{run.elapsed_seconds:.1f} s "
                f"(seed {run.seed})"
            )
        )
        self.stdout.write("  m    h  third  n      10-90  25-75  CRPS skill  Brier skill")
        for cell in run.table["cells"]:
            third = "all" if cell["third"] is None else ["low", "mid", "high"][cell["third"]]
            self.stdout.write(
                f"  {cell['length'] or 'all':>3} {cell['horizon']:>3}  {third:<5} "
                f"{cell['count']:>5}  {_percent(cell['inside_80'])}  {_percent(cell['inside_50'])}"
                f"  {_percent(cell['crps_skill'])}       {_percent(cell['brier_skill'])}"
            )


def _percent(value) -> str:
    return "    -" if value is None else f"{value:>5.1%}"
