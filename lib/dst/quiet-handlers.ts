// Imported first by the in-process commands (the simulator, the capacity model): the handlers run
// in this process by the thousand, with nobody reading their logs or metrics.
// Powertools reads these variables when its instances are built, so they are set on import,
// before any handler module loads.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
