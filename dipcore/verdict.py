"""Which estimate won a run: the network's, IBP's or bicubic's — one rule for the CLI, the app and the tables."""

from __future__ import annotations

import math

TIE = 0.01  # the network and the better baseline within 1 % RMSE of each other: called level
NAMES = {"estimate": "the network", "ibp": "IBP", "bicubic": "bicubic"}


def best_of(dip: float, ibp: float, bicubic: float, tie: float = TIE) -> str:
    """``"estimate"``, ``"ibp"`` or ``"bicubic"``: the lowest RMSE (NaN never wins); ``"level"`` when the network
    and the better baseline are within ``tie`` (relative) of each other."""
    scores = {k: (v if math.isfinite(v) else math.inf) for k, v in (("estimate", dip), ("ibp", ibp),
                                                                   ("bicubic", bicubic))}
    base = min(scores["ibp"], scores["bicubic"])
    if math.isfinite(base) and math.isfinite(scores["estimate"]) and abs(scores["estimate"] - base) <= tie * base:
        return "level"
    return min(scores, key=scores.get)


def verdict(dip: float, ibp: float, bicubic: float, ssim: dict[str, float] | None = None, tie: float = TIE) -> str:
    """One plain sentence on which estimate is better on this run, from the three RMSEs (cm).

    With ``ssim`` (``{"estimate", "ibp", "bicubic"}``) the sentence also says whether the network's SSIM beats IBP's.
    """
    head = f"RMSE: DIP {dip:.2f} cm vs IBP {ibp:.2f} cm vs bicubic {bicubic:.2f} cm: "
    best = best_of(dip, ibp, bicubic, tie)
    base = "IBP" if ibp <= bicubic else "bicubic"
    if best == "estimate":
        text = head + "the network beats IBP and bicubic."
    elif best == "level":
        text = head + (f"the network is level with {base} (within {tie:.0%}): it adds nothing the classical "
                       "method does not give here.")
    else:
        tail = "; the network still beats bicubic." if best == "ibp" and dip < bicubic else "."
        text = head + f"{base} (no network) is better than the network here{tail}"
    if ssim is not None and all(k in ssim for k in ("estimate", "ibp")):
        better = ssim["estimate"] > ssim["ibp"]
        text += (f" SSIM: DIP {ssim['estimate']:.3f} vs IBP {ssim['ibp']:.3f}"
                 f" ({'the network is higher' if better else 'IBP is higher or equal'}).")
    return text
