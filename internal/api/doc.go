// Package api is the agent's management side (docs/API.md; H1–H7 in docs/GLOSSARY.md): the
// health poller behind /status, the management HTTP server (/status, /metrics with the agent's
// own series, /stats/prometheus, /enableLogging, /drain_listeners), the stats snapshotter
// behind ?delta, and the -envoyReadiness probe. It talks to Envoy only through internal/envoyadmin;
// the Prometheus text it serves (filtering, rendering, deltas) is made by internal/promtext.
//
// internal/cli/run.go wires it as:
//
//	svc := api.New(api.Options{Config: cfg, Admin: admin, Logger: log, AgentStarted: started,
//		Build: buildInfo(), BootstrapWarnings: n})
//	if err := svc.Listen(); err != nil { ... exit 1 before Envoy starts }
//	defer svc.Stop()
//	group := lifecycle.Start(log, append(svc.Parts(), reaper.Part())...) // every long-running part
//	defer group.Stop()
//	opts.OnChange, opts.LogLevel = svc.EnvoyChanged, svc.EnvoyLogLevel
//	code := supervise.New(opts).Run(ctx)
//
// Why this package is shaped as it is: docs/DESIGN.md.
package api
