"""Measure FNIR/FPIR per demographic group on the county's own enrolled faces (rules.md FR-03)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gateway.csvfiles import csv_rows_write
from gateway.faces.services import matching_evaluate


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


class Command(BaseCommand):
    help = (
        "Run mated searches (people booked more than once) and non-mated ones (people held out of the "
        "gallery) with the current model and threshold, store the evaluation that gates production "
        "matching, and write the accountability-report table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--embedder", default=None)
        parser.add_argument("--threshold", type=float, default=None)
        parser.add_argument("--list-size", type=int, default=None)
        parser.add_argument("--holdout", type=float, default=0.2, help="share of people held out")
        parser.add_argument("--replicates", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--output", type=Path, default=None, help="CSV file for the table")

    def handle(self, *args: Any, **options: Any) -> None:
        evaluation = matching_evaluate(
            embedder=options["embedder"],
            threshold=options["threshold"],
            list_size=options["list_size"],
            holdout_share=options["holdout"],
            replicates=options["replicates"],
            seed=options["seed"],
            created_by="evaluate_matching",
        )
        report = evaluation.report
        columns = ["attribute", "group", "mated_searches", "nonmated_searches", "fnir", "fnir_ci",
                   "fpir", "fpir_ci", "rank1_miss_rate", "small_cell"]  # fmt: skip
        self.stdout.write(
            f"evaluation {evaluation.pk}: {evaluation.model_id} threshold {evaluation.threshold} "
            f"list {evaluation.list_size}, gallery {report['gallery_size']}: "
            + ("PASSED" if evaluation.passed else "NOT PASSED")
        )
        self.stdout.write("\t".join(columns))
        for row in report["rows"]:
            self.stdout.write("\t".join(_fmt(row[c]) for c in columns))
        for ratio in report["ratios"]:
            self.stdout.write(
                f"{ratio['attribute']} {ratio['metric']} max/min {_fmt(ratio['ratio'])} "
                f"CI {_fmt(ratio['ratio_ci'])} ({ratio['highest_group']} / {ratio['lowest_group']})"
                + (" MATERIAL" if ratio["material"] else "")
            )
        if options["output"] is not None:
            with options["output"].open("w", newline="", encoding="utf-8") as handle:
                csv_rows_write(
                    handle=handle,
                    header=columns,
                    rows=(
                        [
                            json.dumps(row[c]) if isinstance(row[c], list) else row[c]
                            for c in columns
                        ]
                        for row in report["rows"]
                    ),
                )
            self.stdout.write(f"table written to {options['output']}")
