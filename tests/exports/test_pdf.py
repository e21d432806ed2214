"""One paper through LibreOffice to PDF: the layout survives a real renderer.

Fails, never skips, without LibreOffice (CI installs libreoffice-writer-nogui, fonts-noto-cjk
and poppler-utils; README lists them).
"""

from __future__ import annotations

import re
import subprocess


from exports import docx_to_pdf, render_theory_paper


def test_theory_paper_renders_to_pdf_with_chinese_text_and_page_numbers(tmp_path, theory_paper) -> None:  # type: ignore[no-untyped-def]
    pdf = docx_to_pdf(render_theory_paper(theory_paper))
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "paper.pdf"
    path.write_bytes(pdf)
    n_pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 4 <= n_pages <= 20, n_pages  # 100 items: a real paper's length, not one runaway page
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    assert "电工（五级/初级工）理论知识试卷" in flat
    assert "注意事项" in flat and "一、单项选择题" in flat and "二、判断题" in flat
    assert f"第1页共{n_pages}页" in flat and f"第{n_pages}页共{n_pages}页" in flat  # fields updated
    assert "100．" in flat
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True,
                           timeout=60).stdout.decode("utf-8", "replace")
    assert re.search(r"CJK|Song|Hei|Ming|WenQuanYi|Sim|Han", fonts), fonts
