"""SST-guided downscaling: a second, fine source of information (a guide map: SST or another tracer that shares
the SSH's fronts and eddies) fed to the fit beside the coarse SSH.

Reading (:mod:`.reading`: :func:`load_guide`, ``FILE[:VAR]`` by :func:`parse_guide_spec`) finds the variable by CF
standard name or by the names SST products use, takes the time step nearest the SSH's and the shallowest level,
and gives temperatures in °C. Regridding and checks (:mod:`.regrid`: :func:`guide_on_grid` → :class:`Guide`) put
it onto the fit's fine grid and refuse what cannot help (no overlap, too little coverage, constant), warning of a
guide far in time or coarser than the grid. eSQG (:mod:`.esqg`) turns SST into a streamfunction up to an amplitude
(ψ̂ ∝ b̂/|k|) and takes a map's detail below the coarse cell. The gate (:mod:`.gate`) measures, at the coarse
scale where the observation is its own truth, how much of the observation's finest octave the guide predicts out
of sample, and refuses a guide below :data:`GATE_R2`. The plan (:mod:`.plan`: :func:`plan_guide`) makes what a
guided recipe needs from it and the :class:`GuideReport` every event of a guided fit carries
(``Progress.guide``). Pass a guide as ``dipcore.solver.fit(..., guide=load_guide_on(path_or_bytes, twin.field.data,
twin.mask))`` or ``dipcore.downscale.downscale(da, factor, guide=load_guide(path_or_bytes))``; the guided
architectures are in :mod:`dipcore.generators.guided`.
"""

from __future__ import annotations

from dipcore.guide.esqg import TRANSFORMS, detail, esqg, esqg_alone, transform
from dipcore.guide.gate import GATE_R2, Coherence, coherence
from dipcore.guide.plan import GuidePlan, GuideReport, as_guide, guided_std, plan_guide
from dipcore.guide.reading import GuideSource, load_guide, parse_guide_spec
from dipcore.guide.regrid import MAX_OFFSET_DAYS, MIN_COVERAGE, Guide, check_guide, guide_on_grid, load_guide_on

__all__ = ["Coherence", "GATE_R2", "Guide", "GuidePlan", "GuideReport", "GuideSource", "MAX_OFFSET_DAYS",
           "MIN_COVERAGE", "TRANSFORMS", "as_guide", "check_guide", "coherence", "detail", "esqg", "esqg_alone",
           "guide_on_grid",
           "guided_std", "load_guide", "load_guide_on", "parse_guide_spec", "plan_guide", "transform"]
