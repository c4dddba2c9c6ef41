"""A synthetic turbulent SSH field: freely decaying 2-D turbulence, for checks on a field no sample resembles.

The vorticity equation ∂ω/∂t + J(ψ, ω) = −ν(−∇²)⁴ω with ω = ∇²ψ is integrated pseudo-spectrally on a doubly
periodic n×n grid (2/3 de-aliasing, RK4 with CFL 0.5, hyperviscosity by its integrating factor) from a random vorticity of band-limited
spectrum. After a few eddy turnovers it holds coherent vortices, filaments and sharp fronts, i.e. the structures
that make SSH hard to interpolate. SSH is the streamfunction (geostrophy: η = f ψ / g), scaled to a
``std_m`` standard deviation in metres. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np


def turbulence(n: int = 256, seed: int = 0, *, k0: float = 12.0, turnovers: float = 6.0,
               std_m: float = 0.2) -> np.ndarray:
    """An (n, n) float32 SSH-like field in metres (no land).

    Parameters
    ----------
    n : int
        Grid size (a power of two is fastest).
    seed : int
        Seed of the initial vorticity.
    k0 : float
        Wavenumber (cycles per domain) of the initial energy peak.
    turnovers : float
        Integration length in eddy turnover times of the initial field.
    std_m : float
        Standard deviation of the returned field (metres).
    """
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(n, 1.0 / n)
    kx, ky = np.meshgrid(k, k)
    k2 = kx ** 2 + ky ** 2
    k2_safe = np.where(k2 == 0, 1.0, k2)
    kmod = np.sqrt(k2)
    dealias = (np.abs(kx) < n / 3) & (np.abs(ky) < n / 3)
    # initial vorticity: random phases, energy spectrum ∝ k exp(-(k/k0)²) (enstrophy k² times that)
    amp = np.sqrt(kmod * np.exp(-(kmod / k0) ** 2) * k2) / np.maximum(kmod, 1)
    w_hat = np.fft.fft2(rng.standard_normal((n, n))) * amp
    w_hat[0, 0] = 0
    w = np.real(np.fft.ifft2(w_hat))
    w_hat = np.fft.fft2(w / w.std())                        # unit RMS vorticity: turnover time ~1
    nu = 2.0 / (n / 3) ** 8                                  # damps the de-aliasing cut-off in ~0.5 time units
    dx = 2 * np.pi / n

    def rhs(wh: np.ndarray) -> np.ndarray:
        psi = -wh / k2_safe
        u = np.real(np.fft.ifft2(-1j * ky * psi))
        v = np.real(np.fft.ifft2(1j * kx * psi))
        wx = np.real(np.fft.ifft2(1j * kx * wh))
        wy = np.real(np.fft.ifft2(1j * ky * wh))
        return -np.fft.fft2(u * wx + v * wy) * dealias

    t = 0.0
    while t < turnovers:  # unit RMS vorticity: one time unit is about one eddy turnover
        psi = -w_hat / k2_safe
        umax = max(np.abs(np.fft.ifft2(1j * ky * psi)).max(), np.abs(np.fft.ifft2(1j * kx * psi)).max())
        dt = min(0.5 * dx / umax, turnovers - t, 0.1)      # CFL 0.5
        t += dt
        a = rhs(w_hat)
        b = rhs(w_hat + 0.5 * dt * a)
        c = rhs(w_hat + 0.5 * dt * b)
        d = rhs(w_hat + dt * c)
        # viscosity by its exact integrating factor (explicitly it would limit dt at the grid scale)
        w_hat = (w_hat + dt / 6 * (a + 2 * b + 2 * c + d)) * np.exp(-nu * k2 ** 4 * dt) * dealias
    psi = np.real(np.fft.ifft2(-w_hat / k2_safe))
    psi -= psi.mean()
    return (psi / psi.std() * std_m).astype(np.float32)


def gaussian_field(shape: tuple[int, int], slope: float, seed: int = 0, *, knee: float | None = None,
                   slope_below: float | None = None, std_m: float = 0.1) -> np.ndarray:
    """A Gaussian random field whose isotropic spectrum is known: PSD ∝ k^-slope, steepening to k^-slope_below past
    the wavenumber ``knee`` (cycles per domain of the longer side); float32 metres, ``std_m`` standard deviation.

    Drawn on a grid twice as large and cropped, so the field is not periodic. For checks whose answer follows from
    the spectrum (the uncertainty's calibration) and for the design set of ``scripts/calibrate_uncertainty.py``.
    """
    ny, nx = shape
    rng = np.random.default_rng(seed)
    n = 2 * max(ny, nx)
    k = np.fft.fftfreq(n, 1.0 / n) / 2  # cycles per (longer side of the) returned field
    kk = np.hypot(*np.meshgrid(k, k))
    kk[0, 0] = 1.0
    psd = kk ** -float(slope)
    if knee is not None:
        below = float(slope if slope_below is None else slope_below)
        psd = np.where(kk > knee, knee ** -float(slope) * (kk / knee) ** -below, psd)
    psd[0, 0] = 0.0
    f = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((n, n))) * np.sqrt(psd)))[:ny, :nx]
    f -= f.mean()
    return (f / f.std() * std_m).astype(np.float32)


def sqg_pair(n: int = 256, seed: int = 0, *, coupling_noise: float = 0.5, white_noise: float = 0.05,
             gradient_c: float = 3.0, sst_std_c: float = 1.0, mean_c: float = 20.0, k0: float = 12.0,
             turnovers: float = 6.0, std_m: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """SSH and an SST-like tracer from one turbulence run, linked as surface quasi-geostrophy links them: a twin
    with truth for SST-guided downscaling.

    SSH is :func:`turbulence`'s streamfunction ψ. In SQG the surface buoyancy is b̂ = (N/f)|k| ψ̂ (Held et al.
    1995; Lapeyre & Klein 2006), and SST follows buoyancy, so the tracer's eddy part is ``ifft(|k| ψ̂)``. The link
    is made real but not exact, as in the ocean: the eddy part gets an independent field of the same spectrum
    (phase-randomised ``b``, ``coupling_noise`` times its std: the squared coherence of SST and SSH detail is
    1/(1 + coupling_noise²) at every scale), white sensor noise (``white_noise`` times the eddy std) and a
    large-scale meridional gradient (``gradient_c`` °C from the first row, the south, to the last). The eddy part's
    std is ``sst_std_c``. Deterministic for a given seed; the row index runs northward.

    Parameters
    ----------
    n, seed, k0, turnovers, std_m
        As for :func:`turbulence` (a later ``turnovers`` of the same seed is "another day" of the same ocean).
    coupling_noise, white_noise : float
        The independent parts of the tracer, in units of its SQG part's std.
    gradient_c, sst_std_c, mean_c : float
        Meridional SST drop across the domain, eddy SST std and mean SST (°C).

    Returns
    -------
    (ssh, sst) : tuple of np.ndarray
        Two (n, n) float32 fields: SSH in metres (std ``std_m``), SST in °C.
    """
    psi = turbulence(n, seed, k0=k0, turnovers=turnovers, std_m=std_m)
    k = np.fft.fftfreq(n, 1.0 / n)
    kmod = np.hypot(*np.meshgrid(k, k))
    b_hat = np.fft.fft2(psi.astype(np.float64)) * kmod
    b = np.real(np.fft.ifft2(b_hat))
    rng = np.random.default_rng([seed, 2])  # its own stream: the SSH's draws are untouched
    phases = np.fft.fft2(rng.standard_normal((n, n)))  # Hermitian: a real field comes back
    other = np.real(np.fft.ifft2(np.abs(b_hat) * phases / np.maximum(np.abs(phases), 1e-12)))
    eddy = b / b.std() + coupling_noise * other / other.std()
    eddy = eddy / eddy.std()
    north = (np.arange(n)[:, None] + 0.5) / n - 0.5
    sst = mean_c + sst_std_c * (eddy + white_noise * rng.standard_normal((n, n))) - gradient_c * north
    return psi, sst.astype(np.float32)
