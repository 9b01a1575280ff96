"""English texts of the agent surface (the default language).

Keys are shared with :mod:`oceansr.i18n.zh`; a test checks both catalogues have the
same keys and the same ``{placeholders}``.
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "mcp.instructions": (
        "oceansr trains ocean super-resolution models (coarse -> fine gridded ocean fields) "
        "in the background.\n"
        "Protocol: ocean_sr_train_start waits up to 5 minutes for training_start and returns "
        "{status: 'started', process_id, ...} (also when the run is still preparing: then "
        "with phase and progress), {status: 'queued', reason} (a Slurm job still waiting) or "
        "{status: 'error', error_summary: {failureType, message, suggestions, advice}}; "
        "suggestions are overrides to copy as they are, advice is prose. Error replies, and "
        "only they, set isError. ocean_sr_train_status actions: status; logs "
        "(tail N lines, or offset -> next_offset); kill; list (20 newest by default; total "
        "counts all); resume; wait (long poll, timeout in seconds, default 120). Run states: "
        "pending (created, not running yet), queued (waiting in the Slurm queue), running "
        "(progress: current epoch / total epochs / ETA), completed (exit 0), failed (with "
        "error_summary), killed (kill_reason.by says who: user, controller_exit, signal, "
        "scheduler or time_limit; kill_reason.note says it in words); a list row that cannot "
        "be read is unreadable. Other tools answer status 'ok' or 'error'.\n"
        "Working rules:\n"
        "1. Wait once, right after start: ocean_sr_train_status(action='wait', timeout=120).\n"
        "2. When the user asks about progress, wait once more (one wait call), then answer.\n"
        "3. On failure, show failureType, suggestions and advice, and ask the user before "
        "retrying; never retry on your own (`next` entries with confirm: true are such "
        "retries: offer them, call them only when the user says so).\n"
        "4. Keep the conversation available while a run trains: do not loop on wait; hand "
        "back to the user after the wait.\n"
        "5. On a new user message, call ocean_sr_train_status(action='list') first if runs "
        "were started.\n"
        "6. Server shutdown terminates the runs it started (they checkpoint last.ckpt and "
        "can be resumed with action='resume').\n"
        "7. After completion, show the test metrics next to bicubic and offer the "
        "visualisation (ocean_sr_train_visualize) and the report (ocean_sr_train_report).\n"
        "Each reply's `next` lists valid tool calls {tool, arguments, why}. Check "
        "unfamiliar data with ocean_sr_check_data before training on it."
    ),
    "tool.start": (
        "Start an ocean super-resolution training in the background. Validates the config "
        "and data first (errors come back at once, nothing started), then waits up to "
        "startup_timeout (default 300 s) for training_start, with progress notifications. "
        "Returns {status: 'started', process_id, ...} or {status: 'error', error_summary: "
        "{failureType, message, suggestions}}. Then (rule 1) call "
        "ocean_sr_train_status(action='wait') once and hand back to the user. backend: "
        "local (default) | slurm (an sbatch job; set partition/time/gres with overrides "
        "such as 'launcher.time=01:00:00'). Slurm runs always use on_exit=keep: a cluster "
        "job outlives this server by design; stop it with action='kill'. A job still "
        "waiting in the queue at startup_timeout returns {status: 'queued', reason}, not "
        "an error."
    ),
    "tool.status": (
        "Inspect or steer runs. action='status' (default): state, progress (1-based epoch / "
        "total_epochs / eta_s), metrics, next calls. 'logs': train.log, last `tail` lines or "
        "from byte `offset` (feed back next_offset). 'wait': long poll until the status "
        "changes or `timeout` s (default 120): once right after start, once more when the "
        "user asks about progress, never in a loop. 'kill': stop gracefully (last.ckpt, "
        "resumable). 'resume': continue a killed/failed run from last.ckpt; `overrides` "
        "extend it (e.g. ['trainer.max_epochs=40']). 'list': runs, "
        "newest first (`status_filter`, `limit`: 20 by default, `total` counts all); call "
        "it first on a new user message if runs were started. A failed run carries "
        "error_summary: show failureType, suggestions and advice and ask before retrying. "
        "Local runs stop when this server shuts down; "
        "Slurm jobs keep running. Annotations are per tool (destructive, because of kill); "
        "per action: status, logs, wait and list are read-only, kill is destructive, resume "
        "starts a process (machine-readable in _meta['oceansr/actions'])."
    ),
    "tool.list_models": "The model registry: name, family, description, parameters, scales.",
    "tool.check_data": (
        "What a NetCDF file or Zarr store holds, before training on it: variables (dims, "
        "units, land fraction), grid, sample dimensions, suitable scales, warnings and "
        "suggested overrides."
    ),
    "tool.check_gpu": "Accelerators with free/total memory (or CPU only) and library versions.",
    "tool.visualize": (
        "Plots of a finished run into <run>/plots/: loss and metric curves, learning rate, "
        "val/test/bicubic comparison, sample maps (LR, bicubic, SR, HR, error) with land "
        "masked. Offer it after completion (rule 7). Returns the file paths."
    ),
    "tool.report": (
        "Write <run>/report.md and a self-contained report.html for a finished run (config, "
        "data, timeline, curves, metrics vs bicubic, checkpoints, compute cost). Offer it "
        "after completion (rule 7). Returns the paths."
    ),
    "tool.predict": (
        "Super-resolve an LR-only NetCDF/Zarr file (`input`) with the best checkpoint of "
        "training run `run` (its process_id), or a `checkpoint` path, into a CF NetCDF/Zarr "
        "on the HR grid. Waits for the predict run up to `timeout` s with progress "
        "notifications. Returns the output path and per-variable stats. Relative paths "
        "(input, checkpoint, output, hr_mask) resolve against the server's base directory "
        "(--base-dir, $OCEANSR_BASE_DIR, else its working directory); an existing output "
        "is refused unless overwrite=true."
    ),
    "next.wait": "wait once for a status change (then hand back to the user)",
    "next.logs": "the end of train.log",
    "next.kill": "stop it (checkpoints last.ckpt, resumable)",
    "next.resume": "continue from checkpoints/last.ckpt",
    "next.visualize": "offer the plots (curves, maps, comparison with bicubic)",
    "next.report": "offer the report (report.md and report.html)",
    "next.status": "the run's current state",
    "next.retry": "ask the user first (rule 3), then retry with {override}",
    "next.resume.confirm": "ask the user first (rule 3), then continue from checkpoints/last.ckpt",
    "start.slow": (
        "started, still in phase {phase} after {seconds} s; wait once (rule 1) for training_start"
    ),
    "start.preparing": (
        "started, still preparing data after {seconds} s (statistics: {read}/{total} fields "
        "read); wait once (rule 1) for training_start"
    ),
    "start.queued": "started, the job is still waiting in the Slurm queue (reason {reason})",
    "arg.resume_only": "overrides apply to action='resume' only, not action={action}",
    "arg.drop_overrides": "call ocean_sr_train_status(action={action}) without overrides",
    "arg.needs_id": "action={action} needs a process_id",
    "arg.list_ids": "call ocean_sr_train_status(action='list') to see the run ids",
    "arg.unknown": "unknown argument(s) {names} for {tool}; known: {known}",
    "arg.invalid": "argument {name}: {problem}",
    "arg.remove": "call {tool} without {name}",
    "arg.fix": "call {tool} again with a valid {name}",
    "plot.panels": "LR|Bicubic|SR|HR|Bicubic − HR|SR − HR",
    "plot.lat": "latitude [°N]",
    "plot.lon": "longitude [°E]",
    "plot.error": "error",
    "plot.test_field": "{var}, test field {n}/{total}: {label}",
    "plot.maps_title": (
        "{var}: LR → bicubic / SR ({model}, {ckpt}) vs HR — land grey, cmocean {cmap}"
    ),
    "plot.wavenumber": "wavenumber [cycles/km]",
    "plot.psd": "power spectral density",
    "plot.spectra_title": (
        "{var}: zonal power spectra per latitude band, true zonal spacing (dotted: effective "
        "resolution, error spectrum {fraction} of HR's; dashed: LR Nyquist wavelength)"
    ),
    "plot.depth": "depth [m]",
    "plot.depth_title": "{var}: RMSE by depth level (test fields)",
    "plot.bicubic": "bicubic",
    "plot.spline": "cubic spline",
    "progress.eta_pending.first_step": (
        "no ETA yet: it is measured from the first optimisation steps; the next wait reports it"
    ),
    "progress.starting": "starting ({seconds} s of at most {limit} s)",
    "progress.run": "{status} / {phase}",
    "kill.by.user": "stopped at the user's request (a kill call)",
    "kill.by.controller_exit": (
        "stopped because the controller that started it (the MCP server or a script with "
        "on_exit=terminate) exited"
    ),
    "kill.by.signal": (
        "stopped by a signal from outside oceansr (kill, Ctrl-C, a container or machine shutdown)"
    ),
    "kill.by.scheduler": (
        "stopped by the cluster scheduler (the job was cancelled outside oceansr or preempted)"
    ),
    "kill.by.time_limit": "stopped at the scheduler's time limit for the job",
    "kill.by.system": "stopped by the system (recorded by an older oceansr: sender unknown)",
    "progress.epoch": " - epoch {epoch}/{total} step {step}/{total_steps}",
    # Warnings of data and predict (replies keep them in English in the run files; the
    # MCP server says them in its language: oceansr.i18n.localize_warning).
    "warn.resolution.finer": (
        "the input's grid step ({input_step} deg) is not the training LR step ({lr_step} "
        "deg): the output's step will be {output_step} deg, x{factor} finer than the "
        "training HR grid ({hr_step} deg), a resolution the model was not trained for; give "
        "an input on the training LR grid, or train (or fine-tune with init_from) on data "
        "of this grid"
    ),
    "warn.resolution.coarser": (
        "the input's grid step ({input_step} deg) is not the training LR step ({lr_step} "
        "deg): the output's step will be {output_step} deg, x{factor} coarser than the "
        "training HR grid ({hr_step} deg), a resolution the model was not trained for; give "
        "an input on the training LR grid, or train (or fine-tune with init_from) on data "
        "of this grid"
    ),
    "warn.resolution.hr_file": (
        "the input's grid step ({input_step} deg) is the training HR step, not the training "
        "LR step ({lr_step} deg): this looks like an HR file given as LR input; the output's "
        "step will be {output_step} deg, x{factor} finer than the training HR grid "
        "({hr_step} deg). Give the coarse field (e.g. a block mean of the HR file) as input"
    ),
    "warn.degradation": (
        "the input's land fits the {matches} operator better than the checkpoint's "
        "{operator}: {mismatched} LR cells differ from the land {operator} makes of the "
        "hr_mask, {matched} from {matches}'s; the model was trained on LR made by "
        "{operator}, so expect worse results near the coast, or train with "
        "data.degradation={matches} for inputs like this one"
    ),
}

#: Failure headlines and suggestions are the English texts of
#: :mod:`oceansr.runs.failures` themselves; no copy here.
