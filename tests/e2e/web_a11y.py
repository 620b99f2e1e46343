"""Accessibility basics checked on every page the browser tests visit: each form control has a label, every
control and link can be reached with the keyboard (Tab), and text keeps a sensible contrast (WCAG AA: 4.5:1, 3:1
for large text) against the background it is drawn on."""

from __future__ import annotations

from typing import Any

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""

INTERACTIVE = """() => [...document.querySelectorAll('a[href], button, input, select, textarea')]
  // checkVisibility: not inside a closed <details> (rendered, but its content is hidden)
  .filter(el => el.type !== 'hidden' && !el.disabled && el.offsetParent !== null && el.checkVisibility())
  .map((el, i) => { const id = el.type === 'radio' ? 'radio:' + el.name : String(i);  // a radio group is one stop
                    el.dataset.a11y = id; return id; })"""

LOW_CONTRAST = """() => {
  const parse = c => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1};
  };
  const lum = ({r, g, b}) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null || el.closest('svg')) continue;
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!text) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < needed) bad.push(`${el.tagName} "${text.slice(0, 40)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def check_page(page: Any, *, max_tabs: int = 250) -> None:
    """Fail with what is wrong on the current page."""
    unlabelled = page.evaluate(UNLABELLED)
    assert unlabelled == [], f"{page.url}: controls without a label: {unlabelled}"
    wanted = set(page.evaluate(INTERACTIVE))
    page.evaluate(
        """() => { window.__reached = new Set();
                   document.addEventListener('focusin', e => window.__reached.add(e.target.dataset.a11y));
                   document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"""
    )
    page.mouse.click(1, 1)  # start from the top of the document
    presses = 0
    while presses < min(max_tabs, 2 * len(wanted) + 5):
        for _ in range(len(wanted) + 2):  # one walk through the page, then see what was reached
            page.keyboard.press("Tab")
        presses += len(wanted) + 2
        reached = set(page.evaluate("() => [...window.__reached].filter(Boolean)"))
        if wanted <= reached:
            break
    missed = page.evaluate(
        "ids => ids.map(i => document.querySelector(`[data-a11y='${i}']`).outerHTML.slice(0, 100))",
        sorted(wanted - reached),
    )
    assert missed == [], f"{page.url}: not reachable with Tab: {missed}"
    low = page.evaluate(LOW_CONTRAST)
    assert low == [], f"{page.url}: text with too little contrast: {low}"
