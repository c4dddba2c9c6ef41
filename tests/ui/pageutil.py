"""Small page helpers the browser tests share (Playwright pages of the explorer)."""

from __future__ import annotations


def progress_text(page) -> str:
    """The progress line under the tabs."""
    return page.locator(".ssh-progress pre").first.inner_text().strip()


def set_input(page, cls: str, value: str) -> None:
    """Type ``value`` into the input of the widget with CSS class ``cls`` and press Enter."""
    box = page.locator(f".{cls} input").first
    box.fill(value)
    box.press("Enter")
