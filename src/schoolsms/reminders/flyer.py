"""The one-page opt-in flyer (US Letter PDF) for an organization, in one built-in language.

Text is real PDF text in the standard Helvetica fonts (Windows-1252 covers Spanish, so no font
file has to ship or be found on the machine), and the QR code is drawn as vector rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from schoolsms.accounts.models import Organization
from schoolsms.reminders.texts import COPIES, OPT_IN_WORD, Copy, qr_payload

PAGE_W, PAGE_H = 215.9, 279.4  # US Letter, mm
MARGIN = 16.0
CONTENT_W = PAGE_W - 2 * MARGIN

BLUE = (24, 74, 150)
LIGHT = (232, 240, 251)
INK = (26, 26, 26)
MUTED = (85, 85, 85)
WHITE = (255, 255, 255)
FONT = "Helvetica"


@dataclass(frozen=True)
class FlyerInfo:
    """Everything the flyer prints about the organization and its sender."""

    org_name: str
    program: str
    code: str
    help_contact: str

    @classmethod
    def for_organization(cls, organization: Organization, language: str = "en") -> FlyerInfo:
        """What a flyer or email in `language` prints (the HELP contact in that language)."""
        sender = organization.sender
        return cls(
            org_name=organization.name,
            program=sender.program_name or organization.name,
            code=sender.code,
            help_contact=sender.help_contact_for(language),
        )


def flyer_render(*, organization: Organization, language: str) -> bytes:
    """The flyer PDF. `language` must be one of texts.LANGUAGES."""
    info = FlyerInfo.for_organization(organization, language)
    return flyer_render_info(info=info, language=language)


def flyer_filename(*, organization: Organization, language: str) -> str:
    return f"opt-in-flyer-{organization.slug}-{language}.pdf"


def flyer_render_info(*, info: FlyerInfo, language: str) -> bytes:
    copy = COPIES[language]
    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(f"{copy.text_word_to.format(word=OPT_IN_WORD, code=info.code)} · {info.org_name}")
    pdf.set_author(info.org_name)
    pdf.set_lang(copy.language)
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_page()
    y = _banner(pdf, info)
    y = _call_to_action(pdf, info, copy, y + 9)
    y = _steps_and_qr(pdf, info, copy, y + 9)
    _fine_print(pdf, info, copy, y + 6)
    return bytes(pdf.output())


def _fit_font_size(pdf: FPDF, text: str, style: str, size: float, width: float) -> float:
    """The largest size ≤ `size` at which `text` fits in `width` on one line."""
    pdf.set_font(FONT, style, size)
    while size > 8 and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font(FONT, style, size)
    return size


def _banner(pdf: FPDF, info: FlyerInfo) -> float:
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, PAGE_W, 44, style="F")
    pdf.set_text_color(*WHITE)
    size = _fit_font_size(pdf, info.org_name, "B", 30, CONTENT_W)
    if size >= 20:
        pdf.set_xy(MARGIN, 10)
        pdf.cell(CONTENT_W, 13, info.org_name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:  # a long name reads better on two lines than tiny on one
        pdf.set_font(FONT, "B", 19)
        pdf.set_xy(MARGIN, 6)
        pdf.multi_cell(CONTENT_W, 8, info.org_name, align="C", max_line_height=8)
        pdf.set_xy(MARGIN, max(pdf.get_y() + 1, 23))
    if info.program and info.program != info.org_name:
        _fit_font_size(pdf, info.program, "", 16, CONTENT_W)
        pdf.cell(CONTENT_W, 9, info.program, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return 44.0


def _call_to_action(pdf: FPDF, info: FlyerInfo, copy: Copy, y: float) -> float:
    pdf.set_text_color(*INK)
    _fit_font_size(pdf, copy.headline, "B", 28, CONTENT_W)
    pdf.set_xy(MARGIN, y)
    pdf.cell(CONTENT_W, 12, copy.headline, align="C")
    y += 15

    # "Text Y to 67587" on one line, the word and the code much larger than the rest, so it
    # reads from across a room and on a phone screen without zooming.
    sentence = copy.text_word_to.format(word="\0", code="\1")
    before, rest = sentence.split("\0")
    middle, after = rest.split("\1")
    parts = [(before, "", 1.0), (OPT_IN_WORD, "B", 1.7), (middle, "", 1.0), (info.code, "B", 1.7)]
    parts += [(after, "", 1.0)] if after else []
    box_w = CONTENT_W
    base = 44.0
    while True:
        widths = []
        for text, style, scale in parts:
            pdf.set_font(FONT, style, base * scale)
            widths.append(pdf.get_string_width(text))
        if sum(widths) <= box_w - 16 or base <= 12:
            break
        base -= 1
    box_h = base * 1.7 * 0.3528 + 26  # the big line's height in mm, plus room for one line
    pdf.set_fill_color(*LIGHT)
    pdf.rect(MARGIN, y, box_w, box_h, style="F", round_corners=True, corner_radius=5)
    line_h = base * 1.7 * 0.3528 * 1.05
    x = MARGIN + (box_w - sum(widths)) / 2
    baseline_y = y + 5
    for (text, style, scale), width in zip(parts, widths, strict=True):
        pdf.set_font(FONT, style, base * scale)
        pdf.set_text_color(*(BLUE if style == "B" else INK))
        pdf.set_xy(x, baseline_y)
        pdf.cell(width, line_h, text, align="L")
        x += width
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "", 14)
    pdf.set_xy(MARGIN + 8, baseline_y + line_h + 2)
    pdf.multi_cell(box_w - 16, 6.5, copy.how.format(word=OPT_IN_WORD, code=info.code), align="C")
    return y + box_h


def _steps_and_qr(pdf: FPDF, info: FlyerInfo, copy: Copy, y: float) -> float:
    qr_size = 66.0
    gap = 10.0
    left_w = CONTENT_W - qr_size - gap
    # Steps, each with a numbered disc.
    cy = y
    for number, step in enumerate(copy.steps, start=1):
        pdf.set_fill_color(*BLUE)
        # fpdf2 ≥ 2.8.1 takes the circle's centre.
        pdf.circle(MARGIN + 5, cy + 5, 5, style="F")
        pdf.set_text_color(*WHITE)
        pdf.set_font(FONT, "B", 15)
        pdf.set_xy(MARGIN, cy)
        pdf.cell(10, 10, str(number), align="C")
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "", 16)
        pdf.set_xy(MARGIN + 14, cy + 1.5)
        pdf.multi_cell(left_w - 14, 7, step.format(word=OPT_IN_WORD, code=info.code), align="L")
        cy = max(cy + 14, pdf.get_y() + 4)

    cy += 3
    pdf.set_xy(MARGIN, cy)
    pdf.set_font(FONT, "B", 17)
    pdf.set_text_color(*BLUE)
    pdf.cell(left_w, 9, copy.what_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "", 14)
    what = copy.what.format(program=info.program, org=info.org_name)
    pdf.multi_cell(left_w, 6.5, what, align="L")
    left_bottom = pdf.get_y()

    qr_x = MARGIN + left_w + gap
    _draw_qr(pdf, qr_payload(info.code), qr_x, y, qr_size)
    pdf.set_font(FONT, "", 11.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(qr_x - 3, y + qr_size + 3)
    pdf.multi_cell(qr_size + 6, 5, copy.scan.format(word=OPT_IN_WORD, code=info.code), align="C")
    return max(left_bottom, pdf.get_y())


def _draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    qr = segno.make(payload, error="m", micro=False)
    border = 2  # modules of quiet zone inside `size`; the page around it is white too
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=border)]
    module = size / len(rows)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.6)
    pdf.rect(x, y, size, size, style="D", round_corners=True, corner_radius=3)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # Runs of dark modules as one rectangle: fewer PDF operators, no hairline gaps.
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module, "F")
            else:
                c += 1


def _fine_print(pdf: FPDF, info: FlyerInfo, copy: Copy, y: float) -> None:
    lines = [
        copy.rates,
        copy.frequency,
        copy.stop.format(code=info.code),
        copy.help.format(code=info.code),
    ]
    if info.help_contact:
        lines.append(copy.help_contact.format(contact=info.help_contact))
    # Anchored to the bottom of the page, where the fine print of a flyer is expected.
    pdf.set_font(FONT, "", 9.5)
    footer_h = 4.5 * _line_count(pdf, copy.footer)
    pdf.set_font(FONT, "B", 13)
    block_h = sum(6.4 * _line_count(pdf, line) for line in lines)
    top = max(y, PAGE_H - MARGIN + 4 - footer_h - 3 - block_h - 5)
    pdf.set_draw_color(*BLUE)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, top, PAGE_W - MARGIN, top)
    pdf.set_xy(MARGIN, top + 4)
    pdf.set_text_color(*INK)
    for line in lines:
        bold = line == copy.rates or "STOP" in line or "HELP" in line
        pdf.set_font(FONT, "B" if bold else "", 13)
        pdf.multi_cell(CONTENT_W, 6.4, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(MARGIN, pdf.get_y() + 3)
    pdf.multi_cell(CONTENT_W, 4.5, copy.footer, align="C")


def _line_count(pdf: FPDF, text: str) -> int:
    lines = pdf.multi_cell(CONTENT_W, 5, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return len(lines)
