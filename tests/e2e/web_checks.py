"""What every page the browser tests visit must pass, beside web_a11y's basics: axe-core (vendored under
vendor/axe-core, MPL-2.0) with WCAG 2.0/2.1/2.2 A+AA and best-practice rules and no serious or critical
violation; on a phone every visible interactive element at least 44×44 CSS px; nothing scrolling sideways; no
console error. Screenshots go to a folder outside the repository: $CABINET_SCREENSHOT_DIR, else
/tmp/cabinet-screens."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
TARGET_PX = 44
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}
DESKTOP_VIEWPORT = {"width": 1366, "height": 768}


def screenshot_dir() -> Path:
    path = Path(os.environ.get("CABINET_SCREENSHOT_DIR") or "/tmp/cabinet-screens")
    path.mkdir(parents=True, exist_ok=True)
    return path


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core violations on the current page (injected through the DevTools protocol, so
    the page's Content-Security-Policy, which forbids inline scripts, stays as it is)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source() + "\n;0")
    results = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
                 .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => `${v.id} (${v.impact}): ${v.help} — ` +
                        v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')))""",
        AXE_TAGS,
    )
    return list(results)


SMALL_TARGETS = """min => {
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && el.closest('[hidden], [inert]') === null; };
  const small = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex="0"]')) {
    if (!visible(el) || el.disabled) continue;
    let box = el;
    // a check box or radio is hit through its label: the label is the target
    if ((el.type === 'checkbox' || el.type === 'radio' || el.type === 'file') && el.labels && el.labels.length)
      box = el.labels[0];
    const r = box.getBoundingClientRect();
    if (r.width + 0.5 < min || r.height + 0.5 < min)
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}"` +
                 ` ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  return small;
}"""


def small_targets(page: Any) -> list[str]:
    return list(page.evaluate(SMALL_TARGETS, TARGET_PX))


STRETCHED_BUTTONS = """() => [...document.querySelectorAll('main form button, main form .button')]
  .filter(b => { const r = b.getBoundingClientRect(); const f = b.closest('form').getBoundingClientRect();
                 return r.width > 0 && f.width > 480 && r.width > 0.8 * f.width; })
  .map(b => `"${(b.innerText || '').trim().slice(0, 30)}" ${Math.round(b.getBoundingClientRect().width)}px`)"""


def stretched_buttons(page: Any) -> list[str]:
    """On a wide screen, buttons stretched across a wide form (a button is as wide as its words there)."""
    return list(page.evaluate(STRETCHED_BUTTONS))


# a table cell laid out as anything but a cell (a flex cell) leaves its row's border and height apart from the rest
NOT_A_CELL = """() => [...document.querySelectorAll('main td, main th')]
  .filter(c => c.getBoundingClientRect().width > 0 && getComputedStyle(c).display !== 'table-cell')
  .map(c => `${c.tagName.toLowerCase()}.${[...c.classList].join('.')} (${getComputedStyle(c).display})`)"""


def cells_not_laid_out_as_cells(page: Any) -> list[str]:
    return list(page.evaluate(NOT_A_CELL))


WIDER_THAN_WINDOW = """() => {
  const window_px = document.documentElement.clientWidth;
  const over = document.scrollingElement.scrollWidth - window_px;
  if (over <= 0) return [over, []];
  const past = [...document.body.querySelectorAll('*')].filter(el => {
    const r = el.getBoundingClientRect(); return r.width > 0 && r.right > window_px + 0.5; });
  // the innermost ones (no descendant of theirs also reaches past the edge) name the culprit best
  const innermost = past.filter(el => !past.some(other => other !== el && el.contains(other)));
  return [over, innermost.slice(0, 3).map(el =>
    `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${[...el.classList].map(c => '.' + c).join('')}` +
    ` "${(el.innerText || '').trim().slice(0, 30)}" to ${Math.round(el.getBoundingClientRect().right)}px`)];
}"""


def sideways(page: Any) -> tuple[int, list[str]]:
    """How many px the page is wider than its window (0 when nothing scrolls sideways), and the innermost elements
    reaching past the window's right edge. The window is the layout viewport (documentElement.clientWidth):
    a phone's window.innerWidth grows with a too-wide page, so it would hide the very overflow measured here."""
    over, culprits = page.evaluate(WIDER_THAN_WINDOW)
    return max(0, int(over)), list(culprits)


# Beside the two sizes a test opens, the widths in between where a layout changes (the 48em breakpoint, a
# small tablet, a small laptop): a page must not scroll sideways at any of them either.
BETWEEN_WIDTHS = (480, 768, 1024)


def sideways_anywhere(page: Any) -> list[str]:
    """Sideways scrolling at the page's own size and at the in-between widths (the viewport is put back after)."""
    found: list[str] = []
    over, culprits = sideways(page)
    if over:
        found.append(f"scrolls sideways by {over}px ({', '.join(culprits)})")
    size = page.viewport_size
    if size["width"] > PHONE_VIEWPORT["width"]:
        try:
            for width in BETWEEN_WIDTHS:
                page.set_viewport_size({"width": width, "height": size["height"]})
                over, culprits = sideways(page)
                if over:
                    found.append(f"at {width}px wide scrolls sideways by {over}px ({', '.join(culprits)})")
        finally:
            page.set_viewport_size(size)
    return found


def check_everything(page: Any, name: str, console_errors: list[str]) -> None:
    """axe, target sizes (on a phone), sideways scrolling and the console; then the screenshot."""
    page.screenshot(path=str(screenshot_dir() / f"{name}.png"), full_page=True, scale="css", animations="disabled")
    problems: list[str] = []
    violations = axe_violations(page)
    if violations:
        problems.append(f"axe: {violations}")
    if page.viewport_size["width"] <= PHONE_VIEWPORT["width"]:
        small = small_targets(page)
        if small:
            problems.append(f"targets smaller than {TARGET_PX}px: {small}")
    else:
        stretched = stretched_buttons(page)
        if stretched:
            problems.append(f"buttons stretched across a wide form: {stretched}")
        if broken := cells_not_laid_out_as_cells(page):
            problems.append(f"table cells not laid out as cells: {broken[:4]}")
    problems += sideways_anywhere(page)
    title = page.title()
    if not title.strip() or "<" in title or "{" in title:  # a page's name in the tab: words, never markup
        problems.append(f"title is not plain words: {title!r}")
    if console_errors:
        problems.append(f"console errors: {console_errors}")
        console_errors.clear()
    assert not problems, f"{name} ({page.url}):\n  " + "\n  ".join(problems)
