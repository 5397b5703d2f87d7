"""``gapwatch run`` and ``gapwatch demo``: the whole job, from records to a published run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar

from gapwatch.cli.interrupted import Interrupted, Publication
from gapwatch.errors import StoreError

if TYPE_CHECKING:
    from gapwatch.model.config import RunConfig
    from gapwatch.monitor import MonitorSummary
    from gapwatch.store import Store

Progress = Callable[[str, str, int, int], None]
_console = Console(stderr=True, highlight=False)

STAGES = {
    "open": "opening the engine",
    "count": "counting (one scan per source)",
    "values": "values and confidence limits",
    "disclosure": "disclosure control, gaps, SII, RII",
    "publish": "publishing the run",
    "monitor": "equity guardrails (monitor)",
}


@contextmanager
def _progress(state: Publication | None = None) -> Iterator[Progress]:
    with ProgressBar(
        TextColumn("{task.description:<34}"), BarColumn(), TextColumn("{task.fields[detail]}", style="dim"),
        TimeElapsedColumn(), console=_console, transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def report(stage: str, detail: str, step: int, steps: int) -> None:
            if state is not None:
                state.stage(stage, STAGES.get(stage, stage))
            for name, task in tasks.items():
                if name != stage and bar.tasks[task].stop_time is None:
                    bar.update(task, completed=1, total=1, detail="")
                    bar.stop_task(task)
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=steps or None, detail=detail[:60])
            bar.update(tasks[stage], completed=step, total=steps or None, detail=detail[:60])

        yield report
        for task in tasks.values():
            if bar.tasks[task].stop_time is None:
                bar.update(task, completed=1, total=1, detail="")
                bar.stop_task(task)
        # The bars vanish (so that an error stays one line); on success the stage times remain.
        timings = [(bar.tasks[task].description, bar.tasks[task].elapsed or 0.0) for task in tasks.values()]
    for description, seconds in timings:
        _console.print(f"  {description:<34} {seconds:6.1f} s", style="dim")


def run(
    config: Path = typer.Argument(..., help="The run's YAML file (see gapwatch demo for one)."),
    store: str = typer.Option(None, "--store", help="Results store: a DuckDB file or a postgresql:// URL."),
    backend: str = typer.Option(None, "--backend", help="Engine: duckdb (default), postgres or pyspark."),
    with_monitor: bool = typer.Option(
        True, "--monitor/--no-monitor", help="Run the equity guardrails on the published run."
    ),
) -> None:
    """Run the indicator catalogue over the configured data and publish the results."""
    from gapwatch.model.config import load_config
    from gapwatch.pipeline import check_config_path
    from gapwatch.pipeline import run as run_pipeline

    check_config_path(config)
    settings = load_config(config)
    watching = with_monitor and settings.monitor.enabled
    if watching:
        _check_monitor_settings(settings)
    state = Publication()
    guardrails: list[MonitorSummary] = []
    try:
        with _progress(state) as report:
            summary = run_pipeline(
                settings, store, backend, progress=report,
                then=_monitor_step(settings, report, guardrails) if watching else None,
                published=lambda run_id: state.published(run_id, watching),
            )  # fmt: skip
    except KeyboardInterrupt:
        raise state.interrupted() from None
    _console.print(
        f"published run {summary.run_id}: {summary.indicators} indicators, {summary.cells:,} cells "
        f"in {summary.seconds:.1f} s -> {summary.store}"
    )
    if guardrails:
        _print_monitor(guardrails[0])
    elif not watching:
        _console.print("monitor: not run (--no-monitor): the run has no alerts, trends or targets")


def _check_monitor_settings(settings: RunConfig) -> None:
    from gapwatch.monitor import check_settings

    monitor = settings.monitor
    check_settings(
        *(
            None if path is None else settings.resolve(path)
            for path in (monitor.rules, monitor.targets, monitor.costs)
        )
    )


def _monitor_step(
    settings: RunConfig, report: Progress, done: list[MonitorSummary]
) -> Callable[[Store, str], None]:
    """The monitor, run inside the run's publication so that both are published together."""
    from gapwatch.monitor import monitor as monitor_store

    def resolve(path: str | None) -> Path | None:
        return None if path is None else settings.resolve(path)

    def step(results: Store, run_id: str) -> None:
        done.append(
            monitor_store(
                results,
                run_id,
                resolve(settings.monitor.rules),
                resolve(settings.monitor.targets),
                resolve(settings.monitor.costs),
                progress=lambda stage, detail, step, steps: report(
                    "monitor", f"{stage} {detail}".strip(), 0, 0
                ),
            )
        )

    return step


def _print_monitor(summary: MonitorSummary) -> None:
    from gapwatch.words import code_words

    alerts = ", ".join(f"{count} {code_words(rule)}" for rule, count in summary.alerts.items()) or "none"
    targets = ", ".join(f"{count} {code_words(status)}" for status, count in summary.targets.items())
    _console.print(f"monitor: {summary.series:,} series; alerts: {alerts}")
    if targets:
        _console.print(f"targets: {targets}")


def monitor(
    store: str = typer.Option(..., "--store", help="Results store: a DuckDB file or a postgresql:// URL."),
    run_id: str = typer.Option(None, "--run", help="Run to monitor (default: the latest public run)."),
    private: bool = typer.Option(
        False, "--private", help="Without --run: the latest run, private runs (policy none) included."
    ),
    rules: Path = typer.Option(None, "--rules", help="Guardrail rules YAML (default: the shipped rules)."),
    targets: Path = typer.Option(None, "--targets", help="Gap-reduction targets YAML."),
    costs: Path = typer.Option(None, "--costs", help="Unit costs YAML for the business case."),
) -> None:
    """Trends, guardrail alerts, SPC, targets and the business case for a published run."""
    from gapwatch.monitor import monitor as monitor_store
    from gapwatch.store import open_store

    if not store.startswith(("postgresql://", "postgres://")) and not Path(store).is_file():
        raise StoreError(f"{store}: no results store there (run gapwatch run or gapwatch demo first)")
    results = open_store(store)
    replaced: list[str] = []
    try:
        with _progress() as report, results.writing():
            summary = monitor_store(
                results,
                run_id,
                rules,
                targets,
                costs,
                progress=lambda stage, detail, step, steps: report(
                    "monitor", f"{stage} {detail}".strip(), 0, 0
                ),
                include_private=private,
            )
            results.on_commit(lambda: replaced.append(summary.run_id))
    except KeyboardInterrupt:
        which = f"run {run_id}" if run_id else "the latest run"
        if replaced:
            raise Interrupted(
                f"interrupted after the new monitor tables of run {replaced[0]} were published"
            ) from None
        raise Interrupted(f"interrupted: the monitor tables of {which} were not changed") from None
    finally:
        results.close()
    _console.print(f"monitored run {summary.run_id} in {summary.seconds:.1f} s -> {store}")
    _print_monitor(summary)


DEMO_CONFIG = """\
# gapwatch run configuration written by `gapwatch demo`.
# Re-run with: gapwatch run {config}
name: demo
data: data                   # one <table>.parquet per input table (docs/synthetic-data.md)
periods:
  start: "{start}"
  end: "{end}"
areas: [england, region, icb, sub_icb, local_authority, provider]
confidence: 0.95
disclosure:
  policy: nhs-digital        # or secondary-suppression
  threshold: 7
  rounding: 5
store: results.duckdb
backend: duckdb
"""


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the data, config and results."),
    persons: int = typer.Option(200_000, "--persons", help="How many synthetic people."),
    seed: int = typer.Option(1, "--seed", help="Random seed of the synthetic data."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard afterwards."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address the dashboard listens on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port the dashboard listens on."),
) -> None:
    """Synthetic data, the whole catalogue, the guardrails, a board report, then the dashboard."""
    from gapwatch.model.config import load_config
    from gapwatch.pipeline import run as run_pipeline
    from gapwatch.synth import generate
    from gapwatch.synth.calendar import Window

    window = Window("2023-04", 36)
    data = out / "data"
    _console.print(f"generating {persons:,} synthetic people into {data} …")
    generate(persons, seed, data, None, window.first.strftime("%Y-%m"), window.months, overwrite=True)
    config_path = out / "gapwatch.yaml"
    end = window.month_start(window.months - 1)
    config_path.write_text(
        DEMO_CONFIG.format(config=config_path, start=window.first.strftime("%Y-%m"), end=str(end)[:7])
    )
    settings = load_config(config_path)
    state = Publication()
    done: list[MonitorSummary] = []
    try:
        with _progress(state) as report:
            summary = run_pipeline(
                settings, progress=report, then=_monitor_step(settings, report, done),
                published=lambda run_id: state.published(run_id, True),
            )  # fmt: skip
    except KeyboardInterrupt:
        raise state.interrupted() from None
    guardrails = done[0]
    _console.print(
        f"\n[bold]gapwatch demo[/]\n  data:    {data}\n  config:  {config_path}\n"
        f"  results: {summary.store} (run {summary.run_id}: {summary.indicators} indicators, "
        f"{summary.cells:,} cells, {summary.seconds:.1f} s)\n"
        f"  re-run:  gapwatch run {config_path}"
    )
    _print_monitor(guardrails)
    from gapwatch.codes import ENGLAND
    from gapwatch.report import build_report, write_report
    from gapwatch.store import open_store

    results = open_store(summary.store, read_only=True)
    try:
        paper = build_report(results, "england", ENGLAND, run_id=summary.run_id)
    finally:
        results.close()
    _console.print(f"  report:  {write_report(paper, out / 'report-england.html', 'html')}")
    _console.print(f"  again:   gapwatch serve --store {summary.store}")
    if serve:
        import uvicorn

        from gapwatch.web.app import create_app

        _console.print(f"  dashboard: http://{host}:{port}/ (Ctrl+C to stop)")
        uvicorn.run(create_app(summary.store), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)
    app.command("monitor")(monitor)
