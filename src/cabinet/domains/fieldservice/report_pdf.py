"""The work report as a PDF (fpdf2): what was done on a call, in the company's language and time zone.

fpdf2 rather than ReportLab: pure Python with no C extension to build, maintained, typed, embeds TrueType fonts
as subsets (a report carries only the glyphs it uses), and its tables break across pages by themselves.
The font is DejaVu Sans, shipped in ``fonts/`` with its licence (Bitstream Vera's: free to redistribute): it has
Cyrillic, and a fresh install needs no system font.

Blocking (layout, image embedding): run ``render`` in a worker thread. Photos arrive as small JPEG thumbnails
(``thumbnail``, also blocking), so a report of many photos stays small and quick.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from cabinet.domains.fieldservice.report_content import (
    ReportContent,
    ReportPhoto,
    duration_text,
    time_on_site,
)

FONTS = Path(__file__).with_name("fonts")
FONT = "DejaVuSans"
PHOTOS_PER_ROW = 4

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Work report",
        "call": "Call",
        "status": "Status",
        "customer": "Customer",
        "object": "Service object",
        "address": "Address",
        "contact": "Contact person",
        "created": "Created",
        "finished": "Finished",
        "comments": "Comments",
        "tasks": "Tasks",
        "task": "Task",
        "result": "Result",
        "files": "Files",
        "materials": "Materials",
        "name": "Name",
        "serial": "Serial number",
        "count": "Quantity",
        "price": "Unit price",
        "total": "Total",
        "expenses": "Expenses",
        "item": "Item",
        "visits": "Visits",
        "check_in": "Check-in",
        "check_out": "Check-out",
        "on_site": "Time on site",
        "distance": "Distance, m",
        "outside": "outside the geofence",
        "photos": "Photos",
        "signature": "Customer's signature",
        "signed_by": "Signed by",
        "not_signed": "Not signed",
        "generated": "Generated",
        "times_in": "Times in",
        "page": "Page",
        "none": "none",
        "New": "New",
        "Done": "Done",
        "Canceled": "Canceled",
        "Committed": "Committed",
        "Closed": "Closed",
    },
    "ru": {
        "title": "Акт выполненных работ",
        "call": "Заявка",
        "status": "Статус",
        "customer": "Клиент",
        "object": "Объект",
        "address": "Адрес",
        "contact": "Контактное лицо",
        "created": "Создана",
        "finished": "Выполнена",
        "comments": "Комментарий",
        "tasks": "Задачи",
        "task": "Задача",
        "result": "Результат",
        "files": "Файлы",
        "materials": "Материалы",
        "name": "Наименование",
        "serial": "Серийный номер",
        "count": "Кол-во",
        "price": "Цена за ед.",
        "total": "Итого",
        "expenses": "Расходы",
        "item": "Статья",
        "visits": "Визиты",
        "check_in": "Прибытие",
        "check_out": "Убытие",
        "on_site": "Время на объекте",
        "distance": "Расстояние, м",
        "outside": "вне геозоны",
        "photos": "Фотографии",
        "signature": "Подпись клиента",
        "signed_by": "Подписал",
        "not_signed": "Не подписано",
        "generated": "Сформирован",
        "times_in": "Время указано в поясе",
        "page": "Стр.",
        "none": "нет",
        "New": "Новая",
        "Done": "Выполнена",
        "Canceled": "Отменена",
        "Committed": "В работе",
        "Closed": "Закрыта",
    },
}
DATETIME_FORMATS = {"ru": "dd.MM.yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}


class _Document(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text}    {self.page_no()}/{{nb}}", align="R")


def render(content: ReportContent) -> bytes:
    """The PDF's bytes."""
    lang = content.locale if content.locale in LABELS else "en"
    t = LABELS[lang]
    zone = ZoneInfo(content.zone)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        try:
            shown = moment.astimezone(zone)
        except OverflowError:  # stored at the very end of what a datetime holds: shown in UTC, not a failed report
            shown = moment.astimezone(UTC)
        return format_datetime(shown, DATETIME_FORMATS[lang], locale=lang)

    def number(value: Decimal) -> str:
        return format_decimal(value, locale=lang)

    def money(value: Decimal) -> str:
        return format_currency(value, content.currency, locale=lang)

    pdf = _Document(format="A4", unit="mm")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    title = f"{t['title']} — {t['call']} {content.number}"
    pdf.set_title(title)
    pdf.set_creator("cabinet")
    pdf.set_lang(lang)
    pdf.set_creation_date(content.generated)
    pdf.footer_text = f"{t['call']} {content.number} · {t['generated']} {when(content.generated)} ({content.zone})"
    pdf.add_page()

    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(90)
    pdf.cell(0, 5, f"{t['times_in']} {content.zone}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
    pdf.ln(2)

    pdf.set_font(FONT, size=9)
    facts = [
        (t["call"], content.number),
        (t["status"], t.get(content.status, content.status)),
        (t["customer"], content.client_name),
        (t["object"], content.object_name),
        (t["address"], content.address),
        (t["contact"], content.contact or "—"),
        (t["created"], when(content.created)),
        (t["finished"], when(content.finished)),
    ]
    with pdf.table(col_widths=(35, 145), first_row_as_headings=False, line_height=5) as table:
        for label, value in facts:
            row = table.row()
            row.cell(label)
            row.cell(value)
    if content.comments.strip():
        _heading(pdf, t["comments"])
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(0, 5, content.comments, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(pdf, t["tasks"])
    with pdf.table(col_widths=(10, 120, 30, 20), line_height=5) as table:
        _header(table, ["#", t["task"], t["result"], t["files"]])
        for index, task in enumerate(content.tasks, 1):
            _row(table, [str(index), task.title, t.get(task.status, task.status), str(task.files)])

    if content.materials:
        _heading(pdf, t["materials"])
        with pdf.table(col_widths=(62, 34, 22, 30, 32), line_height=5, text_align="LEFT") as table:
            _header(table, [t["name"], t["serial"], t["count"], t["price"], t["total"]])
            for m in content.materials:
                _row(table, [m.name, m.serial_number, number(m.count), money(m.price), money(m.total)])
            _row(table, [t["total"], "", "", "", money(content.materials_total)], bold=True)
    if content.expenses:
        _heading(pdf, t["expenses"])
        with pdf.table(col_widths=(140, 40), line_height=5) as table:
            _header(table, [t["item"], t["count"]])
            for name, count in content.expenses:
                _row(table, [name, number(count)])
            _row(table, [t["total"], number(sum((c for _, c in content.expenses), Decimal(0)))], bold=True)

    _heading(pdf, t["visits"])
    if content.visits:
        with pdf.table(col_widths=(10, 45, 45, 30, 50), line_height=5) as table:
            _header(table, ["#", t["check_in"], t["check_out"], t["on_site"], t["distance"]])
            for index, v in enumerate(content.visits, 1):
                stay = duration_text(v.check_out - v.check_in) if v.check_out is not None else "—"
                distance = "—" if v.distance_meters is None else f"{v.distance_meters:.0f}"
                if v.outside_geofence:
                    distance += f" ({t['outside']})"
                _row(table, [str(index), when(v.check_in), when(v.check_out), stay, distance])
            _row(table, [t["on_site"], "", "", duration_text(time_on_site(content.visits)), ""], bold=True)
    else:
        pdf.set_font(FONT, size=9)
        pdf.cell(0, 5, t["none"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if content.photos:
        _heading(pdf, t["photos"])
        _photos(pdf, content.photos)

    _heading(pdf, t["signature"])
    pdf.set_font(FONT, size=9)
    if content.signer_name is None:
        pdf.cell(0, 5, t["not_signed"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        if content.signature_png is not None:
            if pdf.get_y() + 35 > pdf.page_break_trigger:
                pdf.add_page()
            try:
                pdf.image(
                    io.BytesIO(content.signature_png), x=pdf.l_margin, y=pdf.get_y(), h=30, keep_aspect_ratio=True
                )
            except Exception:
                pass
            pdf.set_y(pdf.get_y() + 31)
        line = f"{t['signed_by']}: {content.signer_name}, {when(content.signed_at)}"
        pdf.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(4)
    pdf.set_font(FONT, size=8)
    pdf.cell(0, 5, f"{t['generated']}: {when(content.generated)} ({content.zone})", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    if pdf.get_y() + 14 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)


def _header(table: Any, cells: Sequence[str]) -> None:
    row = table.row()
    for text in cells:
        row.cell(text)


def _row(table: Any, cells: Sequence[str], *, bold: bool = False) -> None:
    row = table.row()
    for text in cells:
        row.cell(text, style=FontFace(emphasis="BOLD") if bold else None)


def _photos(pdf: FPDF, photos: Sequence[ReportPhoto]) -> None:
    gap = 3.0
    width = (pdf.epw - gap * (PHOTOS_PER_ROW - 1)) / PHOTOS_PER_ROW
    box = width  # square cells; the image keeps its aspect ratio inside
    pdf.set_font(FONT, size=7)
    for start in range(0, len(photos), PHOTOS_PER_ROW):
        if pdf.get_y() + box + 8 > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        for column, photo in enumerate(photos[start : start + PHOTOS_PER_ROW]):
            x = pdf.l_margin + column * (width + gap)
            if photo.jpeg is not None:
                pdf.image(io.BytesIO(photo.jpeg), x=x, y=top, w=width, h=box, keep_aspect_ratio=True)
            else:
                pdf.rect(x, top, width, box)
            pdf.set_xy(x, top + box + 0.5)
            pdf.cell(width, 4, _shorten(photo.name, 34), align="C")
        pdf.set_xy(pdf.l_margin, top + box + 6)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
