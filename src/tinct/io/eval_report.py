"""Write the files of ``tinct eval``: report.json, report.md, per_image.csv, contact_sheet.png."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from torch import Tensor

from tinct.io.atomic import atomic_write
from tinct.io.image_file import write_image

MARKDOWN_COLUMNS = (
    ("psnr", "PSNR dB ↑", 2),
    ("ssim", "SSIM ↑", 4),
    ("lpips", "LPIPS ↓", 4),
    ("rmse", "RMSE ↓", 2),
    ("ciede2000", "ΔE00 ↓", 2),
    ("cf", "CF", 1),
    ("delta_cf_of_means", "ΔCF means", 1),
    ("mean_abs_delta_cf", "mean |ΔCF| ↓", 1),
    ("acc_u", "Acc_U ↑", 3),
    ("acc_v", "Acc_V ↑", 3),
    ("saturation_diff", "Sat. diff ↓", 3),
    ("edge_chroma_error", "edge Δab ↓", 2),
    ("flat_chroma_error", "Δab elsewhere ↓", 2),
    ("flat_chroma_std", "flat blotch", 2),
    ("flat_chroma_std_gt", "flat blotch (truth)", 2),
)


def _json_safe(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path, overwrite=True) as handle:
        handle.write(text.encode())


def markdown_table(summary: list[dict[str, object]], title: str) -> str:
    present = [c for c in MARKDOWN_COLUMNS if c[0] in summary[0]]
    lines = [
        f"# {title}",
        "",
        "| model | hints | images | " + " | ".join(c[1] for c in present) + " |",
    ]
    lines.append("|---|---:|---:|" + "---:|" * len(present))
    for row in summary:
        cells = [f"{float(row[key]):.{digits}f}" for key, _, digits in present]  # type: ignore[arg-type]
        lines.append(
            f"| {row['model']} | {row['hints']} | {row['images']} | " + " | ".join(cells) + " |"
        )
    gray = int(summary[0].get("gray_truths", 0))  # type: ignore[call-overload]
    if gray:
        lines += [
            "",
            f"{gray} photo(s) with a gray ground truth are left out of CF, ΔCF, Acc_U/V "
            "and Sat. diff (there is no colour to compare with).",
        ]
    return "\n".join(lines) + "\n"


def write_eval_report(
    out: Path,
    rows: list[dict[str, object]],
    summary: list[dict[str, object]],
    info: dict[str, object],
    sheet: Tensor | None,
) -> None:
    """Write all report files into ``out`` (each atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    report = {"info": info, "summary": [{k: _json_safe(v) for k, v in r.items()} for r in summary]}
    _write_text(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False))
    _write_text(out / "report.md", markdown_table(summary, f"tinct eval: {info.get('data')}"))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    _write_text(out / "per_image.csv", buffer.getvalue())
    if sheet is not None:
        write_image(out / "contact_sheet.png", sheet, force=True)
