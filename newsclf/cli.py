"""The `newsclf` command: one subcommand per job, each a thin shell over the library.

Exit codes: 0 ok; 1 some inputs were rejected or invalid (each reported); 2 usage error;
75 (`run` only) another run holds the store's lock.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable, NoReturn

import click

from newsclf.errors import EXIT_LOCKED, EXIT_OK, EXIT_REJECTED, GuideError, InputError, NewsclfError
from newsclf.store import SAMPLES


class NewsclfGroup(click.Group):
    """A click group that turns newsclf's own errors into a clear message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsclfError as exc:
            problems = exc.problems if isinstance(exc, GuideError) else [f"error: {exc}"]
            for problem in problems:
                click.echo(problem, err=True)
            ctx.exit(EXIT_REJECTED)


def _exit(rejected: object = False, *, locked: bool = False) -> NoReturn:
    """Leave with the exit code: 75 when another run held the lock, 1 when something was rejected
    or failed (each reported on stderr), else 0."""
    sys.exit(EXIT_LOCKED if locked else EXIT_REJECTED if rejected else EXIT_OK)


def _progress(total: int | None = None, desc: str = "", unit: str = "it") -> Any:
    from tqdm import tqdm

    # disable=None: a bar on a terminal, silence in cron logs and pipes.
    return tqdm(total=total, desc=desc, unit=unit, disable=None, file=sys.stderr, leave=False)


def _remember_cap(ctx: click.Context, _param: Any, value: int) -> int:
    ctx.meta["max_record_bytes"] = value
    return value


# Declared once, used by every command that reads records; readers find it in the click context.
max_record_option = click.option(
    "--max-record-bytes",
    type=click.IntRange(1),
    default=10_000_000,
    show_default=True,
    expose_value=False,
    callback=_remember_cap,
    is_eager=True,
    help=(
        "Skip (and report) any record longer than this while reading: a huge line or a compressed"
        " bomb costs at most this much memory."
    ),
)


def _max_record_bytes() -> int:
    from newsclf.records import MAX_RECORD_BYTES

    return click.get_current_context().meta.get("max_record_bytes", MAX_RECORD_BYTES)


def _store(ctx: click.Context) -> Any:
    from newsclf.store import Store

    return Store(ctx.obj["db"])


def shown_option(
    flag: str, default: Any, kind: Any, help: str | None = None, dest: str = ""
) -> Any:
    """An option whose default --help shows."""
    decls = (flag, dest) if dest else (flag,)
    return click.option(*decls, default=default, show_default=True, type=kind, help=help)


def flag_option(flag: str, help: str, dest: str = "") -> Any:
    """An on/off flag."""
    return click.option(*((flag, dest) if dest else (flag,)), is_flag=True, help=help)


def typed_option(flag: str, kind: Any, help: str, dest: str = "") -> Any:
    """An option of a given type (a path, a range) without a default."""
    return click.option(*((flag, dest) if dest else (flag,)), type=kind, help=help)


def _options(*decorators: Any) -> Any:
    """One decorator that applies several click options, listed in --help in the order given."""

    def apply(command: Any) -> Any:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


# The options that say how to read a researcher's JSONL/CSV: encoding, delimiter, column map, dates.
read_options = _options(
    click.option(
        "--encoding",
        help="The files' encoding (default: UTF-8, else detected and named, e.g. cp1252).",
    ),
    click.option(
        "--delimiter",
        help="CSV delimiter: , ; | or tab (default: sniffed from the header line).",
    ),
    click.option(
        "--map",
        "column_map",
        multiple=True,
        metavar="FIELD=COLUMN,...",
        help="Read fields from other columns (CSV) or keys (JSONL), e.g. text=body,title=headline,"
        "published=date,outlet=source. Other columns are kept in metadata.",
    ),
    click.option(
        "--dayfirst",
        "date_order",
        flag_value="dayfirst",
        help="Read 12/05/2023 as 12 May (needed when a numeric date could be either).",
    ),
    click.option(
        "--monthfirst",
        "date_order",
        flag_value="monthfirst",
        help="Read 12/05/2023 as December 5.",
    ),
    click.option(
        "--timezone", "tz_name", help="Zone of dates without one: Asia/Jakarta, +07:00, WIB."
    ),
)


def guide_option(required: bool = True, help: str | None = None) -> Any:
    """--guide FILE (as `guide_path`), declared once; `help` where a command says more."""
    kind = click.Path(exists=True, dir_okay=False)
    return click.option("--guide", "guide_path", required=required, type=kind, help=help)


def model_option(required: bool = True, help: str | None = None) -> Any:
    """--model DIR (as `model_dir`), a trained model's folder, declared once."""
    kind = click.Path(exists=True, file_okay=False)
    return click.option("--model", "model_dir", required=required, type=kind, help=help)


def out_option(help: str, folder: bool = False, required: bool = False, name: str = "out") -> Any:
    """--out FILE (or a folder), declared once; each command says what goes there."""
    kind = click.Path(file_okay=False) if folder else click.Path(dir_okay=False)
    return click.option("--out", name, required=required, type=kind, help=help)


def data_option(help: str) -> Any:
    """--data FILE of labeled records (`-`: standard input), declared once."""
    return click.option(
        "--data", type=click.Path(exists=True, dir_okay=False, allow_dash=True), help=help
    )


# The output format of `run` and `batch` (their writers take the same three).
output_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
)

any_language_option = click.option(
    "--any-language",
    is_flag=True,
    help="Label articles in every language, not only the guide's `languages` (others are skipped, "
    "counted).",
)


# How `collect` and `run` fetch: --min-interval, --contact, --timeout.
fetch_options = _options(
    shown_option(
        "--min-interval",
        5.0,
        click.FloatRange(0),
        "Seconds between two requests to one host (robots.txt Crawl-delay may raise it).",
    ),
    click.option(
        "--contact",
        envvar="NEWSCLF_CONTACT",
        help="Contact (URL or e-mail) sent in the User-Agent.",
    ),
    shown_option("--timeout", 20.0, click.FloatRange(0.1), "Seconds per request."),
)


def day_window(what: str) -> Any:
    """--since/--until DAY options, declared once; `what` says what the days select."""

    def decorate(command: Any) -> Any:
        command = click.option(
            "--until", callback=_check_day, help=f"Last publication day of the {what} (YYYY-MM-DD)."
        )(command)
        return click.option(
            "--since",
            callback=_check_day,
            help=f"First publication day of the {what} (YYYY-MM-DD).",
        )(command)

    return decorate


def _check_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise click.BadParameter(f"takes a day as YYYY-MM-DD, not {value!r}")
    return value


def _read_options(
    encoding: str | None,
    delimiter: str | None,
    column_map: tuple[str, ...],
    date_order: str | None,
    tz_name: str | None,
) -> Any:
    """ReadOptions from the read_options flags; a bad value is a usage error (exit 2)."""
    from newsclf.errors import InputError
    from newsclf.fields import ReadOptions, parse_column_map, parse_timezone
    from newsclf.textfiles import check_encoding, parse_delimiter

    try:
        if encoding:
            check_encoding(encoding)
        return ReadOptions(
            encoding=encoding,
            delimiter=parse_delimiter(delimiter) if delimiter else None,
            column_map=parse_column_map(column_map),
            date_order=date_order,
            timezone=parse_timezone(tz_name) if tz_name else None,
            on_notice=lambda message: click.echo(message, err=True),
        )
    except InputError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(cls=NewsclfGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="NEWSCLF_DB",
    default="newsclf.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite store (or set NEWSCLF_DB).",
)
@click.version_option(package_name="newsclf")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """newsclf: collect news articles, label them by a guide, train classifiers, label new coverage.

    \b
    Example:
      newsclf guide check label_guides/ai-discourse.yaml
      newsclf import articles.jsonl --guide label_guides/ai-discourse.yaml
      newsclf train --guide label_guides/ai-discourse.yaml --out model/
      newsclf classify --model model/ new.jsonl --out labeled.jsonl
    """
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


# --- guide ---------------------------------------------------------------------------------------


@main.group()
def guide() -> None:
    """Check or render a label guide (codebook).

    \b
    Example:
      newsclf guide check label_guides/ai-discourse.yaml
      newsclf guide render label_guides/ai-discourse.yaml --out codebook.md
    """


@guide.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def guide_check(files: tuple[str, ...]) -> None:
    """Validate guide FILES; print each problem as FILE:LINE: what is wrong; what to write instead.

    \b
    Example:
      newsclf guide check label_guides/ai-discourse.yaml
    """
    from newsclf.guide import load_guide

    bad = 0
    for path in files:
        try:
            g = load_guide(path)
        except GuideError as exc:
            bad += 1
            for problem in exc.problems:
                click.echo(problem, err=True)
            continue
        labels = sum(len(s.labels) for s in g.schemes)
        click.echo(f"{path}: ok ({g.name} {g.version}: {len(g.schemes)} schemes, {labels} labels)")
    _exit(bad)


@guide.command("render")
@click.argument("file", type=click.Path(dir_okay=False))
@out_option("Write here instead of standard output.")
def guide_render(file: str, out: str | None) -> None:
    """Render guide FILE as a Markdown codebook for a paper's appendix.

    \b
    Example:
      newsclf guide render label_guides/ai-discourse.yaml --out codebook.md
    """
    from newsclf.guide import load_guide, render_markdown

    text = render_markdown(load_guide(file))
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


# --- import / export -----------------------------------------------------------------------------


@main.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@guide_option(
    required=False, help="Label guide to check labels against (needed when the files carry labels)."
)
@shown_option("--labeler", "import", None, "Coder name for labels without a 'labeler' field.")
@flag_option("--gold", "These labels are final (reviewed) labels.")
@shown_option(
    "--on-conflict",
    "keep",
    click.Choice(["keep", "replace", "error"]),
    "An id already stored (or earlier in the file) with another title or text: keep the stored "
    "one, replace it, or reject the line. Each conflict is reported either way.",
)
@typed_option(
    "--outlets",
    click.Path(exists=True, dir_okay=False),
    "CSV of alias,canonical rows: store every spelling of an outlet under one name.",
    dest="outlets_path",
)
@typed_option(
    "--sample",
    click.Choice(SAMPLES),
    "The sample these articles were drawn in, for labels whose line names none; 'estimation' "
    "(a simple random sample) is what `report` corrects the model's shares with.",
)
@read_options
@max_record_option
@click.pass_context
def import_command(
    ctx: click.Context,
    files: tuple[str, ...],
    guide_path: str | None,
    labeler: str,
    gold: bool,
    on_conflict: str,
    outlets_path: str | None,
    sample: str | None,
    **read: Any,
) -> None:
    """Import articles (and labels) from JSONL, CSV or TSV FILES (.gz too; `-`: JSONL on stdin) into
    the store.

    A JSON file may also hold one array of records (`[{...}, ...]`). A CSV's delimiter (, ; tab |)
    is sniffed and a file that is not UTF-8 is detected (the message names the encoding); dates
    such as 12/05/2023, May 12, 2023 or 12 Mei 2023 07:45 WIB become ISO 8601 (the original is
    kept in metadata). Outlet names are folded (case, spaces, `www.`). Bad lines are reported with
    their line number and reason; the good lines are imported and the exit code is 1. Importing
    the same file again changes nothing.

    \b
    Example:
      newsclf import articles.jsonl
      newsclf import coder_a.jsonl --guide label_guides/ai-discourse.yaml --labeler ana
      newsclf import export.csv --map text=body,title=headline,published=date --dayfirst \\
          --timezone Asia/Jakarta
      newsclf import random_100.jsonl --guide label_guides/ai-discourse.yaml --sample estimation
    """
    from newsclf.fields import OutletNames, load_outlet_aliases
    from newsclf.guide import load_guide
    from newsclf.records import ImportReport, import_file

    options = _read_options(**read)
    g = load_guide(guide_path) if guide_path else None
    outlets = OutletNames(aliases=load_outlet_aliases(outlets_path) if outlets_path else {})
    report = ImportReport()
    with _store(ctx) as store, _progress(desc="import", unit="lines") as bar:
        for path in files:
            import_file(
                store,
                path,
                g,
                labeler=labeler,
                gold=gold,
                report=report,
                progress=bar,
                options=options,
                on_conflict=on_conflict,
                outlets=outlets,
                max_record_bytes=_max_record_bytes(),
                sample=sample,
            )
    for path, lineno, reason in report.rejected:
        click.echo(f"{path}:{lineno}: {reason}", err=True)
    for path, lineno, what in report.conflicts:
        click.echo(f"{path}:{lineno}: conflict: {what}", err=True)
    click.echo(report.summary())
    _exit(report.rejected)


@main.command("export")
@shown_option(
    "--format",
    "jsonl",
    click.Choice(["jsonl", "csv", "parquet"]),
    "parquet needs --out; in CSV and Parquet, lists and objects are JSON cells.",
    dest="fmt",
)
@flag_option("--labels", "Add each coder's labels (JSONL: 'annotations').", dest="with_labels")
@flag_option("--predictions", "Add stored model predictions.", dest="with_predictions")
@click.option(
    "--outlet",
    "outlets",
    multiple=True,
    help="Only this outlet (any spelling; repeat for several).",
)
@day_window("articles to export")
@click.option(
    "--lang",
    "langs",
    multiple=True,
    help="Only articles in this language, e.g. id (repeat for several).",
)
@click.option(
    "--label",
    "label_filters",
    multiple=True,
    metavar="SCHEME=LABEL",
    help=(
        "Only articles whose final label (gold, else coders' majority, else predicted) includes it;"
        " needs --guide. Repeat: all must hold."
    ),
)
@guide_option(required=False, help="Label guide, for --label.")
@flag_option(
    "--flat",
    "One row of plain cells per article: per scheme its final labels, their source (gold,"
    " majority, coder, predicted) and probability; needs --guide.",
)
@out_option("Output file (default: standard output).")
@click.pass_context
def export_command(
    ctx: click.Context,
    fmt: str,
    with_labels: bool,
    with_predictions: bool,
    outlets: tuple[str, ...],
    since: str | None,
    until: str | None,
    langs: tuple[str, ...],
    label_filters: tuple[str, ...],
    guide_path: str | None,
    flat: bool,
    out: str | None,
) -> None:
    """Export the store's articles as JSONL, CSV or Parquet, with labels and/or predictions,
    filtered.

    \b
    Example:
      newsclf export --labels --out articles.jsonl
      newsclf export --format csv --predictions --out predictions.csv
      newsclf export --outlet "Kabar Nusa" --since 2023-07-01 --lang id --out kabar-nusa.jsonl
      newsclf export --guide label_guides/ai-discourse.yaml --label topics=labor \\
          --format parquet --out labor.parquet
      newsclf export --guide label_guides/ai-discourse.yaml --flat --format csv --out articles.csv
    """
    from newsclf.errors import InputError
    from newsclf.exporter import (
        ExportFilter,
        export_articles,
        export_parquet,
        flat_table,
        parse_label_filters,
        write_flat,
    )
    from newsclf.guide import load_guide

    if fmt == "parquet" and not out:
        raise click.UsageError("--format parquet needs --out FILE")
    if flat and not guide_path:
        raise click.UsageError("--flat needs --guide (its schemes are the table's columns)")
    if flat and (with_labels or with_predictions):
        raise click.UsageError(
            "--flat has each scheme's final label and probability; drop --labels/--predictions"
        )
    g = load_guide(guide_path) if guide_path else None
    try:
        keep = ExportFilter(
            outlets=outlets,
            since=since,
            until=until,
            langs=langs,
            labels=parse_label_filters(label_filters, g),
            guide=g,
        )
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    with _store(ctx) as store:
        columns, rows = flat_table(store, g, keep) if flat else ([], [])
        if flat and fmt == "parquet":
            n = write_flat(rows, columns, fmt, out)
        elif fmt == "parquet":
            n = export_parquet(store, out, with_labels, with_predictions, keep)
        else:
            fh = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
            try:
                n = (
                    write_flat(rows, columns, fmt, None, fh)
                    if flat
                    else export_articles(store, fh, fmt, with_labels, with_predictions, keep)
                )
            finally:
                if out:
                    fh.close()
    click.echo(f"exported {n} articles" + (f" to {out}" if out else ""), err=True)


# --- collect -------------------------------------------------------------------------------------


@main.command("collect")
@click.argument("urls", nargs=-1)
@click.option("--feeds", help="A file (or URL) listing feed URLs, one a line, or OPML.")
@click.option(
    "--sitemap",
    "sitemaps",
    multiple=True,
    help="A sitemap, sitemap index or Google News sitemap URL.",
)
@typed_option(
    "--html", click.Path(exists=True, file_okay=False), "A folder of saved pages.", dest="html_dir"
)
@typed_option(
    "--warc",
    click.Path(file_okay=False),
    "Also write every response to WARC files here.",
    dest="warc_dir",
)
@fetch_options
@flag_option(
    "--keep-non-articles",
    "Store pages that are not news articles too (home, listing, shop pages; counted and skipped"
    " by default).",
)
@click.pass_context
def collect_command(
    ctx: click.Context,
    urls: tuple[str, ...],
    feeds: str | None,
    sitemaps: tuple[str, ...],
    html_dir: str | None,
    warc_dir: str | None,
    min_interval: float,
    contact: str | None,
    timeout: float,
    keep_non_articles: bool = False,
) -> None:
    """Fetch articles politely (robots.txt, one request per host at a time), extract and store them.

    Multi-page articles are stitched into one. Feeds are polled with conditional GETs and only
    entries not seen before are fetched, so the command is safe to rerun from cron.

    \b
    Example:
      newsclf collect https://news.example/2023/05/story.html
      newsclf collect --feeds feeds.opml --contact research@uni.example --warc warc/
      newsclf collect --sitemap https://news.example/sitemap-news.xml
      newsclf collect --html saved-pages/
    """
    from newsclf.collect.collector import Collector
    from newsclf.collect.fetch import Fetcher

    if not (urls or feeds or sitemaps or html_dir):
        raise click.UsageError("give URLs, --feeds FILE, --sitemap URL or --html DIR")
    fetcher = Fetcher(contact=contact, min_interval=min_interval, timeout=timeout)
    warc = None
    if warc_dir:
        from newsclf.collect.warc import WarcWriter

        warc = WarcWriter(warc_dir)
    with _store(ctx) as store, _progress(desc="collect", unit="articles") as bar:
        collector = Collector(
            store,
            fetcher,
            warc=warc,
            on_progress=lambda _: bar.update(1),
            keep_non_articles=keep_non_articles,
        )
        try:
            if html_dir:
                collector.collect_html_dir(html_dir)
            if feeds:
                collector.collect_feeds(feeds)
            for sitemap in sitemaps:
                collector.collect_sitemap(sitemap)
            collector.collect_urls(urls)
        finally:
            if warc is not None:
                warc.close()
        copies = collector.regroup_duplicates()
    summary = collector.summary
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for url, reason in summary.not_articles:
        click.echo(f"skipped: {url}: {reason}", err=True)
    for url, reason in summary.failed:
        click.echo(f"failed: {url}: {reason}", err=True)
    click.echo(summary.line() + f"; near-duplicate copies in store {copies}")
    _exit(summary.failed)


# --- train / classify / evaluate -----------------------------------------------------------------


@main.command("train")
@guide_option()
@data_option(
    "Labeled JSONL/CSV to train on (`-`: JSONL on stdin; default: the labels in the store)."
)
@out_option("Model directory to write.", folder=True, required=True)
@shown_option("--folds", 5, click.IntRange(2, 20), "Cross-validation folds.")
@shown_option(
    "--split",
    "auto",
    None,
    "How cross-validation splits: random, outlet, time, group:FIELD, or auto (outlet, else"
    " time, else random).",
)
@shown_option(
    "--backend",
    "linear",
    click.Choice(["linear", "minilm", "minilm-frozen"]),
    "linear: TF-IDF + logistic regression (fast). minilm: a fine-tuned small encoder, more"
    " accurate on news stance, ~50x slower. minilm-frozen: the linear model blended with the"
    " encoder's frozen sentence embeddings, better on short texts such as tweets, no"
    " fine-tuning. Both encoders need pip install 'newsclf[transformer]'.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1),
    default=None,
    help=(
        "Processes for the cross-validation folds and the final fit (default: all cores; small data"
        " stays in one process). The model and its metrics are the same for any value."
    ),
)
@flag_option(
    "--no-cv",
    "Skip the cross-validation that measures the model (C and calibration are still chosen):"
    " for quick iterations. metrics.json and card.md then carry the previous model's figures"
    " from OUT, marked as not from this model, or say there are none.",
    dest="no_cv",
)
@day_window("labeled articles to train on")
@read_options
@max_record_option
@click.pass_context
def train_command(
    ctx: click.Context,
    guide_path: str,
    data: str | None,
    out: str,
    folds: int,
    split: str,
    backend: str,
    jobs: int | None,
    no_cv: bool,
    since: str | None,
    until: str | None,
    **read: Any,
) -> None:
    """Train one classifier per scheme of the guide; write MODEL_DIR with metrics.json and card.md.

    --until keeps later articles out of training, so `evaluate --since` can score the model on them.

    \b
    Example:
      newsclf train --guide label_guides/ai-discourse.yaml --out model/
      newsclf train --guide label_guides/ai-discourse.yaml --data labeled.jsonl --out model/
      newsclf train --guide label_guides/ai-discourse.yaml --out model/ --until 2023-06-30
      newsclf train --guide label_guides/ai-discourse.yaml --out model/ --no-cv --jobs 2
    """
    from newsclf.guide import load_guide
    from newsclf.model.data import examples_from_records, examples_from_store, published_between
    from newsclf.model.train import train as train_model

    options = _read_options(**read)
    g = load_guide(guide_path)
    rejected = 0
    if data:
        records = []
        for result in _read_checked(data, g, options):
            if result.record is None:
                rejected += 1
            else:
                records.append(result.record)
        examples = examples_from_records(records, g)
    else:
        with _store(ctx) as store:
            examples = examples_from_store(store, g)
    examples = published_between(examples, since, until)
    train_model(
        g,
        examples,
        out,
        folds=folds,
        split=split,
        log=click.echo,
        backend=backend,
        jobs=jobs,
        cv=not no_cv,
    )
    click.echo(f"wrote {out} (metrics.json, card.md)")
    _exit(rejected)


def _read_checked(path: str, guide: Any, options: Any = None) -> Iterable[Any]:
    from newsclf.classify import read_checked

    return read_checked(path, guide, options, _max_record_bytes(), _echo_err)


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


@main.command("classify")
@model_option()
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@flag_option("--from-store", "Classify the store's articles instead of INPUT files.")
@out_option("Output JSONL (default: standard output).")
@flag_option("--save", "Also store the predictions in the store.")
@typed_option(
    "--min-confidence",
    click.FloatRange(0.5, 1.0),
    "Mark labels the model is less sure of than this as 'uncertain'.",
)
@flag_option(
    "--queue",
    "With --min-confidence: queue articles with uncertain labels for labelers (implies --save).",
    dest="queue_uncertain",
)
@any_language_option
@read_options
@max_record_option
@click.pass_context
def classify_command(
    ctx: click.Context,
    model_dir: str,
    inputs: tuple[str, ...],
    from_store: bool,
    out: str | None,
    save: bool,
    min_confidence: float | None,
    queue_uncertain: bool,
    any_language: bool = False,
    **read: Any,
) -> None:
    """Label the articles in INPUT files (JSONL/CSV; `-`: JSONL on stdin) with a trained model.

    Each output line holds the article's id, `cats: {scheme: {label: probability}}` and
    `labels: {scheme: [...]}`. A record's own `target` is used for stance schemes.

    \b
    Example:
      newsclf classify --model model/ new.jsonl --out labeled.jsonl
      newsclf classify --model model/ --from-store --save --out labeled.jsonl
      newsclf classify --model model/ new.jsonl --min-confidence 0.8 --queue --out labeled.jsonl
      echo '{"id": "a1", "title": "...", "text": "..."}' | newsclf classify --model model/ -
    """
    from newsclf.classify import classify_inputs
    from newsclf.model.predict import load_model

    if not inputs and not from_store:
        raise click.UsageError("give INPUT files or --from-store")
    if queue_uncertain and min_confidence is None:
        raise click.UsageError("--queue needs --min-confidence")
    options = _read_options(**read)
    model = load_model(model_dir)
    store = _store(ctx) if from_store or save or queue_uncertain else None
    stored_ids = store.article_ids() if from_store else []
    fh = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        with _progress(total=len(stored_ids) or None, desc="classify", unit="articles") as bar:
            summary = classify_inputs(
                model,
                inputs,
                fh,
                store=store,
                stored_ids=stored_ids,
                max_record_bytes=_max_record_bytes(),
                save=save,
                min_confidence=min_confidence,
                queue_uncertain=queue_uncertain,
                on_progress=bar.update,
                any_language=any_language,
                options=options,
                on_error=_echo_err,
            )
    finally:
        if out:
            fh.close()
        if store is not None:
            store.close()
    if queue_uncertain:
        click.echo(f"queued {summary.queued} articles with uncertain labels for labelers", err=True)
    scope = "".join(
        f"; {n} not labeled ({kind})" for kind, n in sorted(summary.out_of_scope.items())
    )
    click.echo(
        f"classified {summary.classified} articles{scope}"
        + (f" -> {out}" if out else "")
        + (f"; {summary.rejected} lines rejected" if summary.rejected else ""),
        err=True,
    )
    _exit(summary.rejected)


@main.command("evaluate")
@model_option()
@data_option(
    "Labeled test JSONL/CSV (`-`: JSONL on stdin; default: the labels in the store). "
    "Label-only lines take their article's text from the store."
)
@typed_option(
    "--json", click.Path(dir_okay=False), "Also write the metrics as JSON here.", dest="json_out"
)
@day_window("labeled articles to score")
@read_options
@max_record_option
@click.pass_context
def evaluate_command(
    ctx: click.Context,
    model_dir: str,
    data: str | None,
    json_out: str | None,
    since: str | None,
    until: str | None,
    **read: Any,
) -> None:
    """Score a model on labeled data it was not trained on: per-label P/R/F1 and macro-F1 per
    scheme.

    \b
    Example:
      newsclf evaluate --model model/ --data test.jsonl --json metrics.json
      # the store's labels after a `train --until`:
      newsclf evaluate --model model/ --since 2023-07-01
    """
    from newsclf.model.data import examples_from_records, examples_from_store, published_between
    from newsclf.model.evaluate import format_metrics
    from newsclf.model.predict import evaluate_model, load_model
    from newsclf.records import source_name

    options = _read_options(**read)
    model = load_model(model_dir)
    if data:
        records = [
            r.record for r in _read_checked(data, model.guide, options) if r.record is not None
        ]
        # Label-only lines need the store's text; a missing store is not created just to be empty.
        if any(r.article is None for r in records) and Path(ctx.obj["db"]).exists():
            with _store(ctx) as store:
                examples = examples_from_records(records, model.guide, store)
                textless = sum(
                    1
                    for r in records
                    if r.article is None and store.get_article(r.article_id) is None
                )
        else:
            examples = examples_from_records(records, model.guide)
            textless = sum(1 for r in records if r.article is None)
    else:
        with _store(ctx) as store:
            examples, textless = examples_from_store(store, model.guide), 0
    metrics = evaluate_model(model, published_between(examples, since, until))
    if not metrics:
        where = source_name(data) if data else f"the store {ctx.obj['db']}"
        why = (
            f"; {textless} of its lines name an article by id without its text, and the store "
            f"({ctx.obj['db']}) does not hold it: import the articles first"
            if textless
            else ""
        )
        window = f" published {since or '…'} to {until or '…'}" if since or until else ""
        raise NewsclfError(
            f"{where}: no labeled articles{window} for any scheme the model knows "
            f"({', '.join(model.schemes)}){why}"
        )
    for name, m in metrics.items():
        click.echo(format_metrics(name, m))
    if json_out:
        Path(json_out).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        click.echo(f"wrote {json_out}")


@main.command("suggest")
@model_option(
    required=False,
    help=(
        "A trained model. Without one, the picks are a first batch that represents the pool's"
        " content."
    ),
)
@shown_option("--n", 20, click.IntRange(1), "How many to suggest.", dest="count")
@flag_option(
    "--queue",
    "Add the picks to the labeling queue (kind 'active'; 'seed' without a model).",
    dest="to_queue",
)
@out_option("Write the picks as JSONL here.")
@click.option(
    "--query",
    help="Pick only among the articles a search query matches (see newsclf search --help).",
)
@click.pass_context
def suggest_command(
    ctx: click.Context,
    model_dir: str | None,
    count: int,
    to_queue: bool,
    out: str | None,
    query: str | None,
) -> None:
    """Pick the unlabeled articles whose labels would teach the model most (uncertain, diverse,
    spread over outlets).

    Articles already labeled or in the labeling queue are not picked again. A pool of more than
    20,000 is sampled at random first (only the sample's texts are loaded).

    Before any model exists (no --model), the picks are one article per content cluster of the
    pool, every outlet covered: a better first batch to label than a random one.

    \b
    Example:
      newsclf suggest --n 50 --queue            # the first batch, before any model
      newsclf suggest --model model/ --n 50 --queue
      newsclf suggest --model model/ --n 50 --query '"data labelers" OR anotator*' --queue
    """
    from newsclf.label.queue import SAMPLE_POOL_CAP, pool_articles
    from newsclf.model.active import representative
    from newsclf.model.active import suggest as pick
    from newsclf.model.predict import load_model

    model = load_model(model_dir) if model_dir else None
    with _store(ctx) as store:
        # Articles already labeled or queued for labeling are not suggested again: no duplicate
        # work.
        pool, total = pool_articles(store, within=_query_population(store, query))
        groups = store.dup_groups()
        picks = (
            pick(model, pool, count, groups)
            if model is not None
            else representative(pool, count, groups)
        )
        if to_queue:
            store.enqueue(
                (p.article.id, "seed" if model is None else "active", p.score, p.reason)
                for p in picks
            )
    lines = [
        {
            "id": p.article.id,
            "outlet": p.article.outlet,
            "title": p.article.title,
            "score": p.score,
            "reason": p.reason,
        }
        for p in picks
    ]
    if out:
        Path(out).write_text(
            "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
        )
    for line in lines:
        click.echo(f"{line['score']:.3f}  {line['id']}  [{line['outlet']}] {line['title']}")
    sampled = f" (picked from a random {SAMPLE_POOL_CAP:,})" if total > len(pool) else ""
    click.echo(
        f"{len(picks)} of {total} unlabeled, unqueued articles suggested{sampled}"
        + (" and queued" if to_queue else ""),
        err=True,
    )


@main.command("label-errors")
@guide_option()
@data_option("Labeled JSONL/CSV (`-`: JSONL on stdin; default: the store).")
@shown_option("--folds", 5, click.IntRange(2, 20))
@out_option("Write the flagged items as JSONL here.")
@read_options
@max_record_option
@click.pass_context
def label_errors_command(
    ctx: click.Context, guide_path: str, data: str | None, folds: int, out: str | None, **read: Any
) -> None:
    """List gold items whose label a cross-validated model contradicts with confidence, for review.

    Read from the store, the cross-validated predictions are kept in it and reused until a label,
    an article's text, the guide's scheme, --folds or newsclf itself changes.

    \b
    Example:
      newsclf label-errors --guide label_guides/ai-discourse.yaml --out to-review.jsonl
    """
    from newsclf.guide import load_guide
    from newsclf.model.active import all_label_errors
    from newsclf.model.data import examples_from_records, examples_from_store

    g = load_guide(guide_path)
    if data:
        examples = examples_from_records(
            [r.record for r in _read_checked(data, g, _read_options(**read)) if r.record], g
        )
        rows = all_label_errors(g, examples, folds=folds)
    else:
        # From the store: out-of-fold predictions are kept there, reused while nothing changed.
        with _store(ctx) as store:
            examples = examples_from_store(store, g)
            rows = all_label_errors(g, examples, folds=folds, store=store)
    if out:
        Path(out).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    for r in rows:
        target = f" (target {r['target']})" if r["target"] else ""
        click.echo(
            f"{r['margin']:.2f}  {r['id']}  {r['scheme']}{target}: given {', '.join(r['given'])}; "
            f"model says {', '.join(r['model_says'])}  — {r['title']}"
        )
    total = sum(len(v) for v in examples.values())
    click.echo(f"{len(rows)} possible label errors among {total} labeled items", err=True)


@main.command("export-model")
@model_option()
@click.option(
    "--spacy",
    "spacy_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Write a spaCy pipeline here; spacy.load(DIR)(text).cats holds 'scheme:label' scores.",
)
def export_model_command(model_dir: str, spacy_dir: str) -> None:
    """Export a trained model as a spaCy pipeline (doc.cats) for use outside newsclf.

    \b
    Example:
      newsclf export-model --model model/ --spacy spacy-model/
      python -c "import spacy; print(spacy.load('spacy-model')('Text ...').cats)"
    """
    from newsclf.model.predict import load_model
    from newsclf.model.spacy_export import export_spacy

    out = export_spacy(load_model(model_dir), spacy_dir)
    click.echo(f"wrote spaCy pipeline {out}")


@main.command("agreement")
@guide_option()
@typed_option(
    "--json", click.Path(dir_okay=False), "Write every figure as JSON here.", dest="json_out"
)
@typed_option(
    "--markdown",
    click.Path(dir_okay=False),
    "Write the methods table (Markdown) here.",
    dest="md_out",
)
@click.pass_context
def agreement_command(
    ctx: click.Context, guide_path: str, json_out: str | None, md_out: str | None
) -> None:
    """Inter-coder agreement per scheme and label: % agreement, Krippendorff's alpha, Gwet's AC2,
    Cohen's kappa.

    Also the label pairs coders confuse most and each coder's agreement with the others by month.

    \b
    Example:
      newsclf agreement --guide label_guides/ai-discourse.yaml --markdown agreement.md
    """
    from newsclf.guide import load_guide
    from newsclf.label.agreement import agreement_report, methods_table

    g = load_guide(guide_path)
    with _store(ctx) as store:
        report = agreement_report(store.annotations(), g)
    table = methods_table(report)
    click.echo(table)
    for name, s in report.items():
        if s["most_confused"]:
            click.echo(
                f"{name}: most confused "
                + "; ".join(
                    f"{' / '.join(c['labels'])} ({c['times']})" for c in s["most_confused"][:5]
                )
            )
        for k in s["pairwise_kappa"]:
            kappa = "–" if k["kappa"] is None else f"{k['kappa']:.2f}"
            click.echo(
                f"{name}: Cohen's kappa {' & '.join(k['coders'])}: {kappa} over {k['items']} items"
            )
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    if md_out:
        Path(md_out).write_text(table, encoding="utf-8")


@main.command("report")
@guide_option()
@model_option(
    required=False,
    help="Model whose predictions and cross-validated errors to use (default: latest predictions).",
)
@shown_option(
    "--by",
    "outlet,month",
    None,
    "Grouping: any of outlet, lang and one of day, week, month, year, comma-separated.",
)
@day_window("articles to report on")
@shown_option("--hourly-rate", 0.0, click.FloatRange(0), "Labelers' cost per hour.")
@shown_option(
    "--target-f1",
    0.8,
    click.FloatRange(0, 1),
    "Macro-F1 to project the labels and hours needed for.",
)
@shown_option(
    "--estimator",
    "ppi",
    click.Choice(["raw", "acc", "pacc", "ppi"]),
    "How predicted shares are corrected: ppi (prediction-powered, from the random estimation"
    " sample), pacc (probabilistic ACC, same sample), acc (cross-validated error rates), raw"
    " (none).",
)
@shown_option(
    "--min-n",
    10,
    click.IntRange(1),
    "Flag cells with fewer articles than this (drawn hollow, listed at the top).",
)
@shown_option(
    "--max-width", 0.5, click.FloatRange(0, 1), "Flag cells whose 95% interval is wider than this."
)
@click.option(
    "--query",
    help="Report on the articles this search query matches only (see `newsclf search --help`).",
)
@out_option("Report folder.", folder=True, required=True)
@click.pass_context
def report_command(
    ctx: click.Context,
    guide_path: str,
    model_dir: str | None,
    by: str,
    out: str,
    query: str | None = None,
    **settings: Any,
) -> None:
    """Coverage per label, outlet and period with corrected shares and 95% intervals; figures,
    tables, HTML.

    \b
    Example:
      newsclf report --guide label_guides/ai-discourse.yaml --model model/ --by outlet,month \\
          --out report/
      newsclf report --guide label_guides/ai-discourse.yaml --query 'pekerja* OR labelers' \\
          --out report-labor/
    """
    from newsclf.guide import load_guide
    from newsclf.report.build import build_report
    from newsclf.report.coverage import GROUP_FIELDS, PERIODS

    fields = [f.strip() for f in by.split(",") if f.strip()]
    bad = [f for f in fields if f not in PERIODS + GROUP_FIELDS]
    if bad or sum(f in PERIODS for f in fields) > 1:
        raise click.UsageError(
            f"--by takes outlet, lang and one of {', '.join(PERIODS)}; got {by!r}"
        )
    with _store(ctx) as store:
        within = _query_population(store, query)
        result = build_report(
            store,
            load_guide(guide_path),
            out,
            model_dir,
            fields,
            within=within,
            query=query,
            **settings,  # since, until, hourly_rate, target_f1, estimator, min_n, max_width
        )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.not_labeled:
        click.echo(
            "not labeled by the model: "
            + ", ".join(f"{n} {why}" for why, n in result.not_labeled.items()),
            err=True,
        )
    if result.flagged:
        click.echo(
            f"estimates to read with care (fewer than {settings['min_n']} articles or a 95%"
            f" interval wider than {settings['max_width']}):",
            err=True,
        )
        for line in result.flagged:
            click.echo(f"  {line}", err=True)
    click.echo(
        f"wrote {result.html} ({len(result.figures)} figure files, tables in"
        f" {Path(out) / 'tables'})"
    )


# --- labeling page -------------------------------------------------------------------------------


@main.group()
def label() -> None:
    """The labelers' web page: keyboard-only coding by the guide, review and agreement.

    \b
    Example:
      newsclf labelers add ana
      newsclf label serve --guide label_guides/ai-discourse.yaml --reliability-size 200 \\
          --estimation-size 500
    """


@label.command("serve")
@guide_option()
@shown_option("--host", "127.0.0.1", None, "Address to listen on (put HTTPS in front for others).")
@shown_option("--port", 8000, click.IntRange(0, 65535))
@shown_option(
    "--overlap",
    2,
    click.IntRange(2, 20),
    "Coders per reliability-sample article (coded blind, never with suggestions).",
)
@shown_option(
    "--reliability-size",
    0,
    click.IntRange(0),
    "Top the reliability sample (random, stratified by outlet) up to this many articles "
    "[default with --overlap: 10% of the unlabeled pool, at most 200].",
)
@shown_option(
    "--estimation-size",
    0,
    click.IntRange(0),
    "Top the random estimation sample up to this many articles.",
)
@shown_option(
    "--seed-size",
    100,
    click.IntRange(0),
    "Without --model: top the first batch (one per content cluster, for a first model) up to"
    " this many.",
)
@model_option(
    required=False,
    help="A trained model: suggestions (where the guide allows) and active-learning picks.",
)
@shown_option(
    "--active-size",
    100,
    click.IntRange(0),
    "With --model: queue this many of the model's most informative articles.",
)
@shown_option(
    "--lease-minutes",
    30.0,
    click.FloatRange(1),
    "How long an article shown to a labeler is held for them.",
)
@shown_option("--session-hours", 12.0, click.FloatRange(0.1), "How long a login lasts.")
@flag_option("--secure-cookie", "Mark cookies Secure (when served over HTTPS).")
@click.option(
    "--pool",
    "pool_query",
    help="Draw every sample only from the articles this search query matches.",
)
@click.option(
    "--trusted-proxy",
    metavar="ADDR",
    help=(
        "The address of a reverse proxy whose X-Forwarded-For is believed (e.g. 127.0.0.1); without"
        " it failed logins are counted per connecting address."
    ),
)
@click.pass_context
def label_serve(
    ctx: click.Context,
    guide_path: str,
    host: str,
    port: int,
    overlap: int,
    reliability_size: int,
    estimation_size: int,
    seed_size: int,
    model_dir: str | None,
    active_size: int,
    lease_minutes: float,
    session_hours: float,
    secure_cookie: bool,
    pool_query: str | None,
    trusted_proxy: str | None,
) -> None:
    """Serve the labeling page over the store: login, coding, review, agreement.

    Before serving, the reliability and estimation samples are topped up to their sizes, and either
    the model's active-learning picks or (without a model) a first batch that represents the pool
    are
    queued. Articles already queued (`suggest --queue`, `classify --queue`) are served too.

    \b
    Example:
      newsclf label serve --guide label_guides/ai-discourse.yaml --overlap 2 --reliability-size 200
      newsclf label serve --guide label_guides/ai-discourse.yaml --model model/ --port 8080
      newsclf label serve --guide label_guides/ai-discourse.yaml --estimation-size 100 \\
          --pool 'pekerja* OR annotator*'
    """
    from newsclf.guide import load_guide
    from newsclf.label.app import create_app, serve
    from newsclf.label.queue import prepare

    g = load_guide(guide_path)
    model = None
    if model_dir:
        from newsclf.model.predict import load_model

        model = load_model(model_dir)
    with _store(ctx) as store:
        if (
            reliability_size == 0
            and ctx.get_parameter_source("overlap") == click.core.ParameterSource.COMMANDLINE
        ):
            # --overlap asks for double coding; without a size it would have nothing to double-code.
            pool = (
                len(store.sample_pool())
                if not pool_query
                else len(store.unlabeled_unqueued_ids(store.search_ids(_search_match(pool_query))))
            )
            reliability_size = store.count_queued("reliability") + min(200, -(-pool // 10))
            click.echo(
                f"--overlap {overlap} without --reliability-size: a reliability sample of"
                f" {reliability_size} articles (10% of the {pool} unlabeled, unqueued articles, at"
                " most 200 more)",
                err=True,
            )
        within = _query_population(store, pool_query)
        added = prepare(
            store, reliability_size, estimation_size, seed_size, model, active_size, within=within
        )
        if not store.labelers():
            click.echo(
                "warning: no labelers yet; add one with `newsclf labelers add NAME`", err=True
            )
    click.echo("queued: " + ", ".join(f"{k} +{v}" for k, v in added.items()), err=True)
    app = create_app(
        ctx.obj["db"],
        g,
        model=model,
        overlap=overlap,
        lease_seconds=lease_minutes * 60,
        session_hours=session_hours,
        secure_cookie=secure_cookie,
    )
    serve(app, host, port, trusted_proxy=trusted_proxy)


@label.command("flags")
@click.pass_context
def label_flags(ctx: click.Context) -> None:
    """List the notes labelers flagged for the guide's author.

    One a line: when, who, which article, the guide's version, and the note.

    \b
    Example:
      newsclf label flags
    """
    with _store(ctx) as store:
        for f in store.flags():
            click.echo(
                f"{f['created_at']}  {f['labeler']}  {f['article_id']}  (guide"
                f" {f['guide_version']}): {f['note']}"
            )


@main.group()
def labelers() -> None:
    """Add, list, revoke and remove the people who may log in to the labeling page.

    \b
    Example:
      newsclf labelers add ana --role labeler
      newsclf labelers list
      newsclf labelers revoke ana    # ends ana's sessions; `labelers add ana` gives a new token
      newsclf labelers remove ana    # ana can no longer log in; what ana coded stays
    """


@labelers.command("add")
@click.argument("name")
@shown_option(
    "--role",
    "labeler",
    click.Choice(["labeler", "reviewer", "admin", "researcher"]),
    "researcher: searches, explores and exports on the page, never codes.",
)
@click.pass_context
def labelers_add(ctx: click.Context, name: str, role: str) -> None:
    """Add labeler NAME (or give them a new token) and print their login token once.

    Only a hash of the token is stored: keep the printed token, or run the command again for a new
    one
    (a new token ends the labeler's open sessions).

    \b
    Example:
      newsclf labelers add ana
      newsclf labelers add rita --role reviewer
    """
    from newsclf.label.auth import new_token, token_hash

    if not name.strip() or len(name) > 100:
        raise click.UsageError("NAME must be 1 to 100 characters")
    token = new_token()
    with _store(ctx) as store:
        store.add_labeler(name.strip(), role, token_hash(token))
    click.echo(token)
    click.echo(
        f"labeler {name.strip()!r} ({role}): the line above is their login token; it is not shown"
        " again",
        err=True,
    )


@labelers.command("revoke")
@click.argument("name")
@click.pass_context
def labelers_revoke(ctx: click.Context, name: str) -> None:
    """End NAME's sessions and void their token; `newsclf labelers add NAME` gives them a new one.

    \b
    Example:
      newsclf labelers revoke ana
    """
    _change_labeler(ctx, name, "revoke_labeler", f"labeler {name!r}: sessions ended, token void")


@labelers.command("remove")
@click.argument("name")
@click.pass_context
def labelers_remove(ctx: click.Context, name: str) -> None:
    """Remove NAME: their sessions end, articles leased to them go back to the queue, what they
    coded stays.

    \b
    Example:
      newsclf labelers remove ana
    """
    _change_labeler(
        ctx, name, "remove_labeler", f"labeler {name!r} removed; their annotations stay"
    )


def _change_labeler(ctx: click.Context, name: str, method: str, done: str) -> None:
    with _store(ctx) as store:
        if not getattr(store, method)(name):
            raise NewsclfError(f"no labeler named {name!r}; see `newsclf labelers list`")
    click.echo(done, err=True)


@labelers.command("list")
@click.pass_context
def labelers_list(ctx: click.Context) -> None:
    """List labelers and their roles.

    \b
    Example:
      newsclf labelers list
    """
    with _store(ctx) as store:
        for row in store.labelers():
            click.echo(f"{row['name']}\t{row['role']}\t{row['created_at']}")


@main.group()
def annotations() -> None:
    """Export or import annotations: newsclf JSONL, Prodigy JSONL, Label Studio JSON.

    \b
    Example:
      newsclf annotations export --out annotations.jsonl
      newsclf annotations import prodigy.jsonl --format prodigy \\
          --guide label_guides/ai-discourse.yaml
    """


@annotations.command("export")
@shown_option(
    "--format", "newsclf", click.Choice(["newsclf", "prodigy", "label-studio"]), dest="fmt"
)
@guide_option(
    required=False,
    help="Label guide (needed for prodigy and label-studio; limits newsclf to its schemes).",
)
@flag_option("--gold", "Only the reviewers' final (gold) labels.", dest="only_gold")
@flag_option("--with-text", "newsclf format: add each article's fields.")
@typed_option(
    "--config",
    click.Path(dir_okay=False),
    "label-studio: also write the matching labeling config (XML) here.",
    dest="config_out",
)
@out_option("Output file (default: standard output).")
@click.pass_context
def annotations_export(
    ctx: click.Context,
    fmt: str,
    guide_path: str | None,
    only_gold: bool,
    with_text: bool,
    config_out: str | None,
    out: str | None,
) -> None:
    """Write every coder's annotations (one line per coder and article), or only the gold ones.

    \b
    Example:
      newsclf annotations export --out annotations.jsonl
      newsclf annotations export --gold --out gold.jsonl
      newsclf annotations export --format prodigy --guide label_guides/ai-discourse.yaml \\
          --out prodigy.jsonl
      newsclf annotations export --format label-studio --guide label_guides/ai-discourse.yaml \\
          --out tasks.json --config config.xml
    """
    from newsclf.guide import load_guide
    from newsclf.label import formats

    if fmt != "newsclf" and not guide_path:
        raise click.UsageError(f"--format {fmt} needs --guide")
    g = load_guide(guide_path) if guide_path else None
    gold = True if only_gold else None
    with _store(ctx) as store:
        if fmt == "label-studio":
            text = (
                json.dumps(formats.to_label_studio(store, g, gold), ensure_ascii=False, indent=1)
                + "\n"
            )
            n = text.count('"completed_by"')
            if config_out:
                Path(config_out).write_text(formats.label_studio_config(g), encoding="utf-8")
        else:
            rows = list(
                formats.to_prodigy(store, g, gold)
                if fmt == "prodigy"
                else formats.annotation_lines(store, g, gold, with_text)
            )
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            n = len(rows)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    click.echo(
        f"exported {n} {'annotations' if fmt == 'label-studio' else 'lines'}"
        + (f" to {out}" if out else ""),
        err=True,
    )


@annotations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["prodigy", "label-studio"]), required=True)
@guide_option()
@click.option("--scheme", help="prodigy: the scheme of tasks whose meta has no 'scheme'.")
@click.option(
    "--labeler",
    default=None,
    help="Coder name when the file names none (default: the format's name).",
)
@max_record_option
@click.pass_context
def annotations_import(
    ctx: click.Context,
    file: str,
    fmt: str,
    guide_path: str,
    scheme: str | None,
    labeler: str | None,
) -> None:
    """Import annotations (and their articles' text) from Prodigy JSONL or a Label Studio JSON
    export.

    Rejected tasks are reported as FILE:LINE (Prodigy) or FILE:task N (Label Studio); the rest are
    imported.
    Newsclf's own JSONL is imported with `newsclf import FILE --guide G`.

    \b
    Example:
      newsclf annotations import prodigy.jsonl --format prodigy \\
          --guide label_guides/ai-discourse.yaml --scheme topics
      newsclf annotations import export.json --format label-studio \\
          --guide label_guides/ai-discourse.yaml
    """
    from newsclf.guide import load_guide
    from newsclf.label import formats
    from newsclf.records import _jsonl_lines, capped_lines, open_text

    g = load_guide(guide_path)
    with _store(ctx) as store:
        if fmt == "prodigy":
            with open_text(file) as fh:
                lines, bad = [], []
                cap = _max_record_bytes()
                for lineno, data, error in _jsonl_lines(capped_lines(fh, cap), cap=cap):
                    (bad.append((lineno, error)) if error else lines.append((lineno, data)))
            imported = formats.from_prodigy(lines, g, store, scheme, labeler or "prodigy")
            imported.rejected = bad + imported.rejected
            where = "{file}:{n}"
        else:
            tasks, bad = formats.read_label_studio(file, _max_record_bytes())
            imported = formats.from_label_studio(tasks or [], g, store, labeler or "label-studio")
            imported.rejected = bad + imported.rejected
            where = "{file}: task {n}"
        counts = imported.save(store)
    for n, reason in imported.rejected:
        click.echo(where.format(file=file, n=n) + f": {reason}", err=True)
    click.echo(
        f"articles: {counts['articles_new']} new; annotations: {counts['annotations_new']} new, "
        f"{counts['annotations_updated']} updated, {counts['annotations_unchanged']} unchanged; "
        f"rejected: {len(imported.rejected)}"
    )
    _exit(imported.rejected)


# --- batch jobs ----------------------------------------------------------------------------------


@main.command("run")
@click.option(
    "--feeds", required=True, help="A file (or URL) listing feed URLs, one a line, or OPML."
)
@model_option()
@out_option(
    "Append the new predictions here, partitioned by day: DIR/day=YYYY-MM-DD/part-*.FORMAT.",
    folder=True,
    name="out_dir",
)
@output_format_option
@fetch_options
@any_language_option
@click.pass_context
def run_command(
    ctx: click.Context,
    feeds: str,
    model_dir: str,
    out_dir: str | None,
    fmt: str,
    min_interval: float,
    contact: str | None,
    timeout: float,
    any_language: bool = False,
) -> None:
    """One incremental pass for cron: poll feeds, collect new articles, classify them, store and
    export.

    Only new feed entries are fetched; every article without a prediction from MODEL is classified;
    the predictions are stored and appended to --out. Killed at any point and run again, nothing is
    lost and nothing is stored or exported twice. A lock (STORE.lock) stops two passes overlapping.

    Exit codes: 0 ok; 1 some feeds or pages failed (reported, the rest done); 2 usage error;
    75 another run holds the lock (nothing done; try again later). Prints a one-line summary.

    \b
    Example:
      newsclf --db feeds.db run --feeds feeds.opml --model model/ --out predictions/ \\
          --contact me@uni.example
      # crontab: every hour, a log line per pass
      0 * * * * cd /data && newsclf run --feeds feeds.opml --model model/ --out out/ >>run.log 2>&1
    """
    from newsclf.batch.run import LockHeld, run_feeds

    with _progress(desc="run", unit="steps") as bar:
        try:
            summary = run_feeds(
                ctx.obj["db"],
                feeds,
                model_dir,
                out_dir,
                fmt=fmt,
                min_interval=min_interval,
                contact=contact,
                timeout=timeout,
                on_progress=lambda _: bar.update(1),
                any_language=any_language,
            )
        except LockHeld as exc:
            click.echo(f"locked: {exc}", err=True)
            _exit(locked=True)
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for url, reason in summary.collect_failed:
        click.echo(f"failed: {url}: {reason}", err=True)
    click.echo(summary.line())
    _exit(summary.collect_failed)


@main.command("batch")
@model_option()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@out_option("Folder for the shard outputs.", folder=True, required=True, name="out_dir")
@output_format_option
@shown_option(
    "--engine",
    "local",
    click.Choice(["local", "dask"]),
    "local: a process pool on this machine; dask: a Dask LocalCluster, or --scheduler.",
)
@click.option(
    "--workers", default=0, type=click.IntRange(0), help="Worker processes (default: one per CPU)."
)
@click.option(
    "--scheduler", help="Join a running Dask scheduler (tcp://HOST:8786) instead of starting one."
)
@shown_option("--batch-size", 256, click.IntRange(1), "Texts per classify call.")
@shown_option(
    "--shard-size",
    2000,
    click.IntRange(1),
    "Records per shard (JSONL, Parquet and WARC files are split; CSV files are one shard).",
)
@typed_option(
    "--shard-index", click.IntRange(0), "With --shard-count: do only this job's share (job arrays)."
)
@typed_option(
    "--shard-count", click.IntRange(1), "How many jobs share the work (every COUNT-th shard each)."
)
@any_language_option
@flag_option(
    "--keep-non-articles",
    "Classify WARC pages that are not news articles too (home, listing, shop pages; counted and"
    " skipped by default).",
)
@read_options
@max_record_option
def batch_command(
    model_dir: str,
    inputs: tuple[str, ...],
    out_dir: str,
    fmt: str,
    engine: str,
    workers: int,
    scheduler: str | None,
    batch_size: int,
    shard_size: int,
    shard_index: int | None,
    shard_count: int | None,
    any_language: bool = False,
    keep_non_articles: bool = False,
    **read: Any,
) -> None:
    """Classify large inputs (JSONL/CSV/Parquet/WARC, .gz too; a .json array) in parallel shards,
    written atomically.

    WARC pages are extracted on the fly; pages with no article text are counted, not fatal. Each
    shard's output is DIR/NAME.FORMAT with a NAME.done marker; a rerun skips finished shards, so a
    killed batch is finished by running the same command again. Rows are sorted by id within a
    shard: both engines write the same files.

    Exit codes: 0 ok; 1 some records were rejected or shards failed (reported); 2 usage error.

    \b
    Example:
      newsclf batch --model model/ crawl/*.warc.gz articles.jsonl --out out/ --workers 8
      newsclf batch --model model/ crawl/*.warc.gz --out out/ --engine dask \\
          --scheduler tcp://10.0.0.5:8786
      # Slurm job array: task i of 16 does every 16th shard
      newsclf batch --model model/ crawl/*.warc.gz --out out/ \\
          --shard-index $SLURM_ARRAY_TASK_ID --shard-count 16
    """
    from newsclf.batch.shards import run_batch

    if (shard_index is None) != (shard_count is None):
        raise click.UsageError("--shard-index and --shard-count go together")
    if shard_count is not None and shard_index >= shard_count:
        raise click.UsageError(f"--shard-index must be below --shard-count ({shard_count})")
    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    options = _read_options(**read)
    _name_encodings(inputs, options)
    summary = run_batch(
        model_dir,
        inputs,
        out_dir,
        max_record_bytes=_max_record_bytes(),
        progress=lambda total: _progress(total=total, desc="batch", unit="records"),
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        batch_size=batch_size,
        shard_size=shard_size,
        shard_index=shard_index,
        shard_count=shard_count,
        out_fmt=fmt,
        any_language=any_language,
        keep_non_articles=keep_non_articles,
        read=options,
    )
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for example in summary.examples:
        click.echo(f"skipped: {example}", err=True)
    if summary.reasons:
        click.echo(
            "not classified or not labeled, by why (each record's reason:"
            f" {out_dir}/reasons/*.jsonl):",
            err=True,
        )
        for why, n in sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"  {n:6d}  {why}", err=True)
    for failure in summary.failed:
        click.echo(f"failed: {failure}", err=True)
    click.echo(summary.line())
    _exit(summary.failed or summary.rejected or summary.warnings)


def _name_encodings(inputs: tuple[str, ...], options: Any) -> None:
    """Say which JSONL/CSV inputs are read in a detected encoding (the workers that read them cannot
    say)."""
    from newsclf.batch.inputs import input_format
    from newsclf.textfiles import open_decoded

    if options.encoding is None:
        for path in inputs:
            if input_format(path) in ("jsonl", "csv"):
                with open_decoded(path, None, options.on_notice):
                    pass


# --- search --------------------------------------------------------------------------------------


def _search_match(query: str) -> str:
    from newsclf.search import to_match

    try:
        return to_match(query)
    except InputError as exc:
        raise click.UsageError(str(exc)) from None


def _query_population(store: Any, query: str | None) -> set[str] | None:
    """The ids a query matches (None without a query); a query that cannot be read is a usage
    error."""
    if not query:
        return None
    try:
        ids = set(store.search_ids(_search_match(query)))
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"population: the {len(ids)} articles matching {query!r}", err=True)
    return ids


@main.command("search")
@click.argument("query", required=False)
@click.option("--since", help="Published on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Published on or before this date (YYYY-MM-DD).")
@click.option("--outlet", "outlets", multiple=True, help="Only this outlet (repeat for several).")
@click.option("--lang", help="Only articles in this language (e.g. id).")
@click.option(
    "--label",
    help="Coded SCHEME:LABEL (a reviewer's gold label, else any coder's), e.g. topics:labor.",
)
@click.option(
    "--predicted", help="Predicted SCHEME:LABEL[>=P] by the latest model, e.g. topics:labor>=0.8."
)
@shown_option("--limit", 20, click.IntRange(1), "Articles to list.")
@shown_option(
    "--sort",
    "added",
    click.Choice(["added", "date", "relevance"]),
    "added: newest stored first (fastest); date: newest published first; relevance: best match"
    " first.",
    dest="order",
)
@shown_option("--format", "table", click.Choice(["table", "jsonl", "csv"]), dest="fmt")
@typed_option(
    "--count-by",
    click.Choice(["day", "week", "month"]),
    "Print attention instead: matching articles per period and their share of all articles then.",
)
@typed_option(
    "--by", click.Choice(["outlet"]), "With --count-by: one row per period and outlet.", dest="by"
)
@flag_option("--reindex", "Rebuild the search index from the stored articles (after a VACUUM).")
@click.pass_context
def search_command(
    ctx: click.Context,
    query: str | None,
    since: str | None,
    until: str | None,
    outlets: tuple[str, ...],
    lang: str | None,
    label: str | None,
    predicted: str | None,
    limit: int,
    order: str,
    fmt: str,
    count_by: str | None,
    by: str | None,
    reindex: bool,
) -> None:
    """Find stored articles by a query over titles and texts, or count them over time (attention).

    \b
    Query syntax (SQLite FTS5; case and diacritics do not matter):
      labelers chatbot          both words (AND is implied)
      labor OR labour           either word; NOT excludes: chatbot NOT sport
      "data labelers"           a phrase
      pekerja*                  a prefix: pekerja, pekerjaan, pekerjanya
      NEAR(OpenAI wages, 10)    both within 10 words
      title:OpenAI              in the title only (text: in the body only)
      (labor OR wages) AND title:chatbot
    Operators are upper-case; `AI-generated` is searched as the phrase "AI generated".

    \b
    Example:
      newsclf search 'pekerja* AND (upah OR gaji)' --lang id --since 2023-01-01
      newsclf search '"data labelers" OR annotators' --predicted topics:labor>=0.8 \\
          --format csv > hits.csv
      newsclf search 'OpenAI' --count-by month --by outlet
    """
    from newsclf.search import (
        Filters,
        parse_label,
        parse_predicted,
        to_match,
        write_counts,
        write_hits,
    )

    with _store(ctx) as store:
        if reindex:
            click.echo(f"reindexed {store.rebuild_search_index()} articles", err=True)
            if not query:
                return
        if not query:
            raise click.UsageError("give a QUERY (or --reindex)")
        if by and not count_by:
            raise click.UsageError("--by goes with --count-by")
        try:  # a query or filter that cannot be read is a usage error (exit 2), named in words
            filters = Filters(
                since=since,
                until=until,
                outlets=outlets,
                lang=lang,
                label=parse_label(label) if label else None,
                predicted=parse_predicted(predicted) if predicted else None,
            )
            match = to_match(query)
            store.search_count(match)
        except InputError as exc:
            raise click.UsageError(str(exc)) from None
        model_id = store.latest_prediction_model() if predicted else None
        if count_by:
            rows = store.search_counts(
                match, count_by, by_outlet=by == "outlet", filters=filters, model_id=model_id
            )
            write_counts(rows, sys.stdout, fmt)
            click.echo(
                f"{sum(r['matching'] for r in rows)} matching articles of"
                f" {sum(r['total'] for r in rows)}",
                err=True,
            )
            return
        hits = store.search_articles(match, filters, limit=limit, model_id=model_id, order=order)
        total = store.search_count(match, filters, model_id=model_id)
        write_hits(hits, sys.stdout, fmt, emphasis=fmt == "table" and sys.stdout.isatty())
    click.echo(
        f"{total} matching articles"
        + (f"; the first {len(hits)} shown" if total > len(hits) else ""),
        err=True,
    )


# --- demo ----------------------------------------------------------------------------------------


@main.command("demo")
@shown_option(
    "--workdir",
    "demo-output",
    click.Path(file_okay=False),
    "Where the demo writes its store, model and outputs (an earlier demo run's are replaced).",
)
@typed_option(
    "--corpus",
    click.Path(exists=True, file_okay=False),
    "Corpus folder (default: the bundled one).",
)
def demo_command(workdir: str, corpus: str | None) -> None:
    """Run the whole job offline on the bundled corpus: import, train on earlier months, label later
    ones.

    \b
    Example:
      newsclf demo --workdir /tmp/newsclf-demo
    """
    from newsclf.demo import run_demo

    run_demo(Path(workdir), Path(corpus) if corpus else None, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
