"""How the explorer's state chooses a guide map (SST) for the twin experiment's fits (:class:`Guiding`, a part of
:class:`explorer.data.state.ExplorerState`).

The choice itself is a :class:`explorer.data.guide_choice.GuideChoice` (``state.guide``): none, the shown sample's own
SST (``dipcore.samples.Sample.guide``), or an uploaded guide file. The guide on the twin's fine grid is published on
the feed's ``"guide"`` channel (None without one) whenever the choice or the field changes, so the page shows it
before a run; a Run hands it to the fit (:meth:`Guiding.run_guide`). A guide that cannot be used says why in the
page's words and never takes the loaded field (or the earlier guide) away.
"""

from __future__ import annotations

from dipcore.errors import SSHDipError
from dipcore.samples import SAMPLES
from explorer.data.guide_choice import GuideChoice


class Guiding:
    """The guide half of :class:`explorer.data.state.ExplorerState` (it needs that class's ``feed``, ``twin``,
    ``origin``, ``sample`` and ``error``)."""

    guide: GuideChoice

    def _init_guide(self) -> None:
        self.guide = GuideChoice()
        self.guide.param.watch(lambda e: self._push_guide(), "choice")

    def load_guide_upload(self, data: bytes | None, filename: str | None = "guide.nc") -> bool:
        """Use an uploaded NetCDF as the guide (it must read, and cover the field shown); on failure the message
        says what is still used, and the field and the earlier guide stay."""
        twin = self.twin
        try:
            self.guide.upload(data, filename, twin.field if twin is not None else None)
        except SSHDipError as exc:
            self.error = (f"{str(exc).rstrip('.')}. The guide is still {self.guide.label or 'none'}; the field shown "
                          "is unchanged.")
            return False
        self.error = ""
        return True

    def _offer_guide(self) -> None:
        """A new field: offer the sample's own guide when it has one, and show the chosen guide on its grid."""
        own = SAMPLES[self.sample].guide_spec if self.origin == "sample" and self.sample in SAMPLES else None
        before = self.guide.choice
        self.guide.offer_own(own)
        if self.guide.choice == before:  # a changed choice has pushed already (its watcher)
            self._push_guide()

    def _push_guide(self) -> None:
        """The chosen guide on the twin's fine grid to the feed (None without one, or when it cannot be used
        here: the status then says why)."""
        guide = None
        if self.twin is not None and self.guide.active:
            try:
                guide = self.guide.on(self.twin.field)
            except SSHDipError as exc:
                self.guide.status = str(exc)
        self.feed.send("guide", guide)

    def run_guide(self, recipe):
        """The guide a Run of ``recipe`` hands to the fit: a :class:`dipcore.guide.Guide` on the twin's fine grid,
        None for none.

        Raises
        ------
        SSHDipError
            In the page's words: a guide that cannot be used on this field, or a recipe that takes none.
        """
        if not self.guide.active or self.twin is None:
            return None
        from dipcore.recipes import guided_recipe

        try:
            guided_recipe(recipe)
        except SSHDipError:
            raise SSHDipError("a guide works with the default recipe (or a guided one): choose it under Method, "
                              "with its own architecture, or set Guide (SST) to none") from None
        self.guide.show(None)
        return self.guide.on(self.twin.field)


__all__ = ["Guiding"]
