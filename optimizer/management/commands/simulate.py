import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from guards.management.symbols import add_symbol_option, chosen_symbols
from optimizer.simulation import SimulationRefused, simulate

MAX_HOURS = 24 * 90
BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Run a paper bot on the simulated market for N hours of simulated time ending now: market data "
        "fetched on the live schedule, signals, holds, trades and shadow outcomes, recorded as the live "
        "bot's would be."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, required=True, help=f"hours of history to simulate (1-{MAX_HOURS})")
        parser.add_argument("--seed", type=int, default=1, help="the paper bot's seed: the same seed, the same rows")
        parser.add_argument(
            "--until",
            default=None,
            metavar="ISO",
            help="end of the simulated time, e.g. 2026-12-01T12:00:00+00:00 (default: now)",
        )
        add_symbol_option(parser)

    def handle(self, *, hours, seed, until, symbols, **options):
        if not 1 <= hours <= MAX_HOURS:
            raise CommandError(f"--hours must be between 1 and {MAX_HOURS}")
        end = self._until(until)
        symbols = chosen_symbols(symbols)
        bar = _ProgressBar(self.stderr, end - timedelta(hours=hours), end)
        try:
            with _decisions_logged(options["verbosity"] >= 2):
                report = simulate(hours=hours, seed=seed, until=end, symbols=symbols, progress=bar.show)
        except SimulationRefused as exc:
            raise CommandError(str(exc)) from None
        bar.finish(report.end)
        self.stdout.write("\n".join(report.lines()))

    def _until(self, value: str | None) -> datetime:
        now = timezone.now()
        if value is None:
            return now
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise CommandError(
                "--until must be an ISO date and time with its UTC offset, e.g. 2026-12-01T12:00:00+00:00"
            )
        if moment > now:
            raise CommandError("--until cannot be in the future: simulated history ends at the present at the latest")
        return moment


@contextmanager
def _decisions_logged(shown: bool):
    """Every simulated fetch and decision is in the database; its log line (thousands of them)
    is shown only at -v 2, so the progress bar and warnings stay readable."""
    loggers = [logging.getLogger(name) for name in ("guards", "optimizer")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logger.level if shown else logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class _ProgressBar:
    """Simulated time done, redrawn in place on a terminal; every 10% on a pipe or a log."""

    def __init__(self, out, start: datetime, end: datetime):
        self.out, self.start, self.total = out, start, max((end - start).total_seconds(), 1.0)
        self.tty = out.isatty()
        self.shown = -1

    def show(self, moment: datetime) -> None:
        percent = min(int(100 * (moment - self.start).total_seconds() / self.total), 100)
        step = 1 if self.tty else 10
        if percent // step > self.shown // step:
            self._draw(percent, moment)

    def finish(self, end: datetime) -> None:
        if self.shown < 100:
            self._draw(100, end)
        if self.tty:
            self.out.write("")

    def _draw(self, percent: int, moment: datetime) -> None:
        self.shown = percent
        filled = BAR_WIDTH * percent // 100
        line = (
            f"[{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {percent:3d}%  simulated up to {moment:%Y-%m-%d %H:%M} UTC"
        )
        self.out.write(f"\r{line}" if self.tty else line, ending="" if self.tty else "\n")
        self.out.flush()
