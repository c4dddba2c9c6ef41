"""Small page helpers the browser tests share (Playwright pages of the explorer)."""

from __future__ import annotations

# Titles of the page's Bokeh figures as the browser has them (they are drawn on canvas, not in the DOM).
TITLES_JS = """() => {
    const out = [];
    for (const doc of Bokeh.documents) for (const m of doc.all_models)
        if (m.constructor.__name__ === "Title" && m.text) out.push(m.text);
    return out;
}"""


def progress_text(page) -> str:
    """The progress line under the tabs."""
    return page.locator(".ssh-progress pre").first.inner_text().strip()


def wait_enabled(page, name: str, exact: bool = True) -> None:
    """Wait (Playwright's default 5 s) until button ``name`` is enabled: a run's end re-enables Run and the downloads
    a moment after its "stopped"/"done" line, which goes out first (explorer.run.fit_session)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name=name, exact=exact)).to_be_enabled()


def horizontal_scroll(page) -> tuple[int, int]:
    """(the page's scroll width, the window's inner width): no sideways scroll when the first is not larger."""
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def on_first_screen(locator, width: int = 1440, height: int = 900) -> bool:
    """Whether the element is shown and wholly inside the first screen (no scrolling)."""
    if not locator.is_visible():
        return False
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width \
        and box["y"] + box["height"] <= height


def set_input(page, cls: str, value: str) -> None:
    """Type ``value`` into the input of the widget with CSS class ``cls`` and press Enter."""
    box = page.locator(f".{cls} input").first
    box.fill(value)
    box.press("Enter")


# the count of finite values of a named data source's image, as the browser has it (null when absent)
IMAGE_JS = """(name) => {
    for (const doc of Bokeh.documents) for (const m of doc.all_models) {
        if (m.name !== name || !m.data || !m.data.image) continue;
        let n = 0; for (const v of m.data.image[0]) if (Number.isFinite(v)) n++;
        return n;
    }
    return null;
}"""
