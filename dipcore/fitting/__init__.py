"""The pieces of a fit, as :func:`dipcore.solver.fit` runs them: the options it takes, checked once for the library
and the command line (:mod:`.options`, no torch: the CLI's argument checks use it at start-up); the memory it will
need, estimated and refused before anything is allocated (:mod:`.memory`); what it sets up before its first step,
namely the observation in the network's units, the base field a residual recipe corrects, the K networks with their
inputs, the optimiser and its plateau schedule (:mod:`.setup`); and what it tracks from step to step, namely the
exponential average of the output, the early stopping on held-out coarse cells and the fields an event reports
(:mod:`.tracking`). Nothing is imported here, so the options stay light to import.
"""
