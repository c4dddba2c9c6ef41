"""The About tab: what each panel shows, in words for a teacher, the colours, coordinates and keyboard, and a first
run with a class."""

from __future__ import annotations

TEACHER_NOTES = """
### What each panel shows

- **Truth**: the high-resolution SSH field (cm) we pretend not to know; everything is scored against it.
- **Observation**: the truth averaged over ratio × ratio blocks, plus noise: what a coarse sensor would see.
- **Bicubic / IBP** (switch under that map): two classical estimates, no network. Bicubic interpolates the
  observation smoothly back to the fine grid; **IBP** (iterative back-projection) then corrects the bicubic field
  until its block averages reproduce the observation. IBP is the baseline to beat.
- **DIP estimate**: the mean of K neural networks each trained, from scratch on this one image, so that their
  output averaged over blocks reproduces the observation; the network's structure is the only prior. The recipe
  (sidebar) says how each network is fitted; the default stops by itself once its estimate no longer moves, so its
  iteration count is a cap. **Architecture** picks the network: `paper` (the paper's DCGAN-like decoder from a
  small random input), `skip` (the original deep-image-prior hourglass with skip connections) or `decoder` (a small
  Deep Decoder); it starts at the recipe's own, and the rest of the recipe is kept when it is changed.
- **Error (estimate − truth)**: where the method is wrong; red too high, blue too low (before a run: the baseline's).
- **What the network changed (DIP − IBP)**: what the networks added to the classical answer, on a symmetric colour
  scale of its own (their changes are often a few centimetres where the error is tens).
- **Uncertainty σ**: how far off the answer may be at each cell (one standard deviation), computed when the fit
  ends from the coarse map alone (no truth); its RMS is the fit's *expected RMSE*. While the fit runs the map shows
  the **members' spread** (how much the K networks disagree), which is 7-20 times smaller than the error: not the
  uncertainty.
- **RMSE / SSIM curves**: error and structural similarity against iteration, on axes from 0; the grey dashed line
  is bicubic, the green dash-dotted one IBP. The network is worth running where its curve goes below IBP (RMSE) or
  above it (SSIM).
- **Verdict**: when a run ends, one line says which estimate is best on this run: the network, IBP or bicubic
  (by RMSE; within 1 % of each other they are called level), and the RMSE the fit expected without the truth.
- **Guide (SST)** (sidebar, both tabs): a second, fine map that shares the SSH's fronts and eddies (sea surface
  temperature), none by default. The sample **sqg_twin** (synthetic SSH and SST of one flow) and **roms_txla** have
  their own; any other can be uploaded. Chosen, the guide map takes the place of "what the network changed". At Run
  a gate tests it on the coarse map, where the coarse map is its own truth: the fit uses it only if it predicts the
  map's finest detail (at least 10 %), and the line under the guide map says which, and how much. On the SQG twin
  at ×8 it predicts about 73 %, and the guided fit's error is about a third below IBP's; the ROMS SST predicts about
  5 % and is refused: the fit is then exactly the unguided one.
- **Pixel**: tap any map: each member's value at that cell, their mean ± spread, the truth, the bicubic and IBP
  values, and how the estimate there moved during the fit.
- **Transect**: the last two taps define a line; truth, bicubic, IBP and estimate ± 2 spreads along it.
- **Uncertainty tab**: is σ honest? A reliability diagram (the RMS error of the cells in each bin of σ against σ:
  a calibrated σ follows the 1:1 line), how often the truth lies within ±1σ and ±2σ (68 % and 95 % if calibrated),
  and the CRPS beside that of a flat σ equal to the true RMSE (an oracle that knows the truth).
- **Resolution ladder**: the same field at R03…R96 (×1…×32 coarser), as in the paper's Fig. 2, then bicubic, IBP
  and DIP side by side with their errors and scores.

### Colours, coordinates and keyboard

SSH and errors use cmocean's diverging *balance* map, spreads its sequential *amp* map: cmocean's colour maps are
perceptually uniform and stay readable for colour-blind viewers (and in greyscale print). Land is grey; hovering
a map shows the value in cm ("land" where there are no data) and where, in degrees east/north (west and south are
negative). Keyboard, anywhere on the page: **Ctrl+Enter** (⌘+Enter on a Mac) starts the run of the tab shown
(Run, Downscale or Run sweep), **Esc** stops it; **Tab** moves between the controls and **Enter** or **Space**
presses the focused button.

### A first run with a class

Press **Run**: the highlighted button, with a one-line hint under it until the first run. Each map gets a caption
in plain words when it first fills. When the run ends, the verdict says which answer won and "what just happened"
(under the curves) says what the networks did. **Compare & replay** then shows the truth, bicubic, IBP and the DIP
estimate on one map with one colour scale (a toggle flicks between them) beside the fit played back from its
snapshots; "Download the fit as a GIF" saves truth, observation and estimate side by side for slides.
"""

__all__ = ["TEACHER_NOTES"]
