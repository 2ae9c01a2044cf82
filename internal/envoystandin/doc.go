// Command envoy-standin imitates Envoy for appnet-agent's tests. It is test-only: production
// code never imports or references it. Build it with
//
//	go build -o "$DIR/envoy" ./internal/envoystandin
//
// and point APPNET_ENVOY_PATH at the result.
//
// # Command line
//
// Envoy's flags, as "-c FILE", "--config-path FILE" or "--config-path=FILE":
// -c/--config-path, --config-yaml, -l/--log-level (trace debug info warning|warn error
// critical off), --component-log-level, --log-path, --log-format, --concurrency,
// --drain-time-s, --parent-shutdown-time-s, --drain-strategy, --disable-hot-restart,
// --skip-deprecated-logs, --mode serve|validate|init_only, --admin-address-path,
// --service-cluster/-node/-zone, --base-id, --restart-epoch, --local-address-ip-version,
// --enable-core-dump, --version, -h/--help, and a few more that are accepted and ignored.
// An unknown flag, a repeated flag, a missing or bad value: "PARSE ERROR ..." on stderr and
// exit 1. --log-format is honoured for the stand-in's own lines (spdlog's date, time, level,
// logger, pid/thread, source and message flags, with Envoy's %j and %_), and
// --log-format-escaped escapes each whole formatted line as Envoy does (absl::CEscape);
// --component-log-level refuses names outside env.EnvoyComponents. No -c/--config-yaml, an unreadable or malformed bootstrap, or an admin address that
// cannot be bound: a critical log line and exit 1. --version prints
// "\nenvoy  version: <STANDIN_VERSION>\n\n" on stdout and exits 0. --mode validate prints
// "configuration '<path>' OK" and exits 0.
//
// The bootstrap (YAML or JSON) is read only for admin.address, node.id/node.cluster and the
// static listeners (below):
// socket_address{address, port_value, ipv4_compat} (camelCase accepted) or pipe{path, mode}.
// As in Envoy the address must be an IP: an IPv4 address is bound IPv4-only, an IPv6 one
// IPv6-only unless ipv4_compat is true (then dual stack, falling back to 0.0.0.0 on hosts
// without IPv6). Port 0 picks a free port, written to --admin-address-path. An existing file at the pipe path is replaced;
// the socket is chmod'ed to mode, 0600 when mode is absent or 0 (Envoy would leave the
// umask's permissions), and left on disk at exit as Envoy does. No admin address: no admin
// server, like Envoy.
//
// # Listeners
//
// Each static_resources.listeners entry with a socket_address (an IP; port 0 picks a free
// port) is bound and serves HTTP: every request gets 200 with the listener's name ("NAME\n",
// header X-Standin-Listener). A bind failure exits 1, as for Envoy's static listeners.
// /drain_listeners closes them as Envoy does: those with traffic_direction INBOUND only with
// ?inboundonly, all otherwise; with ?graceful after --drain-time-s (answers meanwhile carry
// "Connection: close"), at once without. Their connections are not counted in the stats.
//
// # Admin API
//
//	GET  /ready                200 "LIVE\n", else 503 "<STATE>\n" (PRE_INITIALIZING, INITIALIZING, DRAINING)
//	GET  /server_info          JSON: version, state, hot_restart_version, command_line_options, node, uptime_*
//	GET  /config_dump          JSON ConfigDump: the bootstrap as read, its static clusters and listeners, and a
//	                           SecretsConfigDump holding secrets of every kind whose values start with
//	                           SecretMarker (STANDIN-SECRET-; base64 of it in bytes fields); the query is ignored
//	GET  /clusters             static clusters, "NAME::observability_name::NAME" lines; ?format=json
//	GET  /listeners            static listeners, "NAME::HOST:PORT" lines; ?format=json
//	GET  /runtime              {"entries":{},"layers":[...]}
//	GET  /stats                "name: value" lines; ?format=json → {"stats":[{"name":..,"value":..},...,{"histograms":..}]};
//	                           ?format=prometheus; ?filter=RE2 (400 when invalid); ?usedonly; ?type=counters|gauges|histograms
//	GET  /stats/prometheus     same as /stats?format=prometheus
//	POST /logging              no query: list; ?level=L; ?paths=a:L,b:L; ?<logger>=L. Unknown level or
//	                           logger: 404 with usage. As in Envoy's admin, "warn" is not a level here.
//	POST /drain_listeners      ?inboundonly, ?graceful; "OK\n"; see "Downstream connections"
//	POST /healthcheck/fail|ok  fail makes /ready, /server_info and server.state report DRAINING
//	POST /quitquitquit         "OK\n", then exit 0
//	POST /reopen_logs, /reset_counters, /runtime_modify, ...  "OK\n"
//
// Mutating endpoints answer 405 "Method GET not allowed, POST required." to other methods.
// Unknown paths answer 404 with the list of commands. Any method works on the others.
//
// # Stats
//
// Built-in counters and gauges include control_plane.connected_state,
// listener_manager.{total_listeners_active,total_listeners_draining,listener_create_failure,
// lds.update_rejected,...}, server.{state,live,uptime,concurrency,total_connections},
// http.{ingress,egress,admin}.downstream_cx_active and
// listener.{0.0.0.0_15000,0.0.0.0_15001,admin}.downstream_cx_active, plus one histogram
// (server.initialization_time_ms). Prometheus output uses Envoy's tag extraction
// (envoy_listener_downstream_cx_active{envoy_listener_address="0.0.0.0_15000"}) and prints
// "{}" for series without labels, as Envoy does. usedonly hides zero counters.
//
// Downstream connections: to learn whether client connections remain, read
// server.total_connections (or http.ingress.downstream_cx_active, or
// listener.0.0.0.0_15000.downstream_cx_active). Do not sum listener.*.downstream_cx_active:
// as in Envoy, listener.admin.downstream_cx_active counts the admin request asking, so it
// is never 0. /drain_listeners stops both listeners (the inbound 0.0.0.0_15000 only, with
// inboundonly): total_listeners_active drops, total_listeners_draining and listener_stopped
// rise. /ready stays LIVE, as in Envoy.
//
// # Script (environment)
//
// Durations are Go durations ("300ms") or seconds ("2"). A malformed STANDIN_* variable
// prints "envoy-standin: invalid ..." and exits 97, a code Envoy never uses.
//
//	STANDIN_LIFETIME=D          after D from start, exit with STANDIN_EXIT_CODE (default 0)
//	STANDIN_EXIT_CODE=N         exit code at the end of the lifetime; alone: exit N right after start
//	STANDIN_EXIT_SIGNAL=SIG     at the end of the lifetime die by SIG (SIGSEGV, SEGV, 11, ...), by
//	                            its default action: the wait status shows the signal. Core dumps are
//	                            suppressed unless --enable-core-dump.
//	STANDIN_READY_SEQUENCE=S    state over time, e.g. PRE_INITIALIZING:200ms,INITIALIZING:300ms,LIVE
//	                            (default LIVE). Any text is allowed; only LIVE gives 200.
//	STANDIN_READY_FILE=F        if F exists and is not empty, its first line is the state (overrides
//	                            the sequence; rewrite F to change state while running)
//	STANDIN_READY_BODY=B        exact /ready body (not trimmed), status still from the state
//	STANDIN_CONNECTED_STATE=S   control_plane.connected_state, a value or a sequence like 0:2s,1 (default 1)
//	STANDIN_STATS_FILE=F        "name: value" lines overlaid on the stats on every request (known
//	                            names keep their type, new names are gauges); edit F to change
//	                            values while running, e.g. control_plane.connected_state: 0
//	STANDIN_PROM_FILE=F         body of every Prometheus response, verbatim: filter and usedonly
//	                            are not applied. Files over 1 MiB are streamed untouched; smaller
//	                            ones have {{scrape}}, {{scrape*K}} and {{scrape*K+B}} replaced
//	                            (scrape = 1-based count of Prometheus requests in this process).
//	                            Unreadable F: 500.
//	STANDIN_DELAY=D             delay every admin response by D
//	STANDIN_DELAY_PATHS=P:D,... per-path delay, overriding STANDIN_DELAY (/ready:2s,/stats:300ms)
//	STANDIN_STATUS_PATHS=P:N,...  answer path P with status N (e.g. /logging:500,/stats:502)
//	STANDIN_GARBAGE=1|P,...     answer every path (or the listed ones) with 200 and a non-JSON body
//	STANDIN_RESET_PATHS=P,...   close the connection to these paths without an answer (RST)
//	STANDIN_HUGE_PATHS=P:N,...  answer these paths 200 with N bytes of filler lines
//	STANDIN_DRIP_PATHS=P:D,...  answer these paths 200, then one Prometheus line every D, forever
//	STANDIN_DRIP_STALL_AFTER=D  ... but stop dripping after D and hold the answer open, silent
//	STANDIN_IGNORE_SIGTERM=1    record SIGTERM/SIGINT and keep running (only SIGKILL ends it)
//	STANDIN_TERM_DELAY=D        after SIGTERM/SIGINT, report DRAINING and exit only after D
//	STANDIN_TERM_EXIT_CODE=N    exit code after SIGTERM/SIGINT (default 0)
//	STANDIN_DOWNSTREAM_CX=N     active downstream connections on the inbound listener (default 0)
//	STANDIN_DRAIN_CX_AFTER=D    after the first /drain_listeners, connections fall to 0 after D
//	                            (unset: they never fall)
//	STANDIN_LISTENER_FAILED=1   listener_manager.listener_create_failure and lds.update_rejected are 1
//	STANDIN_SPAWN_ORPHAN=1|D    start a child (this binary, --orphan-sleep D, default 1s) that is never
//	                            waited for, so it outlives the stand-in; its pid is recorded
//	STANDIN_ORPHAN_SETSID=1     the orphan calls setsid: it leaves the stand-in's process group
//	STANDIN_ORPHAN_INHERIT_STDIO=1  give the orphan the stand-in's stdio (default /dev/null, so it
//	                            does not hold the supervisor's pipes open)
//	STANDIN_STDOUT_LINES=N      print "line 1" … "line N" to stdout at start
//	STANDIN_STDERR_LINES=N      print "stderr line 1" … to stderr at start
//	STANDIN_LINE_INTERVAL=D     pause D between those lines (default: as fast as possible);
//	                            lines are never split across writes
//	STANDIN_VERSION=V           version after "version: " in --version and /server_info
//	                            (default 0000000000000000000000000000000000000000/1.40.0/Clean/RELEASE/BoringSSL)
//	STANDIN_RECORD=F            append JSON lines describing what happened (below)
//	STANDIN_RECORD_SKIP=P,...   do not record admin requests to these paths (e.g. /ready,/stats)
//	STANDIN_RECORD_ENV=N,...    also record these environment variables
//
// A hidden mode, `envoy-standin --hang-listen ADDR`, accepts TCP connections on ADDR and never
// answers them, until killed: an instance metadata service that hangs.
//
// # Signals
//
// SIGTERM, SIGINT: exit 0 (see STANDIN_TERM_*); a second one while shutting down is only
// recorded. SIGHUP: logged and ignored (hot restart is disabled). SIGUSR1: logged
// ("reopening access logs"). SIGPIPE: ignored. SIGQUIT, SIGUSR2 (which Envoy does not
// handle) and SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL: the process dies by that signal.
//
// # Record file
//
// One JSON object per line, appended with O_APPEND in a single write, so several processes
// can share a file. Every line has "event", "pid" and "time" (RFC 3339, UTC); a field that is
// empty (0, "", none) is left out. The schema is record.Event (internal/testenv/record),
// which the tests decode the lines into.
//
//	start            argv (with argv[0]), ppid, pgid, sid, cwd, pdeathsig (Linux), fds (inherited
//	                 descriptors → link target, Go runtime's own excluded), rlimit_nofile
//	                 [soft, hard] as the supervisor set them, env_subset (STANDIN_*, APPNET_*,
//	                 ENVOY_*, AWS_REGION, HOME, PATH, TMPDIR, and STANDIN_RECORD_ENV names).
//	                 Written before flag parsing, so --version probes and bad flags appear too;
//	                 its time is the stand-in's start, from which the scripted timings count.
//	admin_listening  network ("tcp"|"unix"), address actually bound
//	listener_listening  name, address actually bound (one per static listener)
//	listener_stopped name (closed by /drain_listeners)
//	admin            method, path, query (raw), host, user_agent, connection, content_length,
//	                 transport; written when the request arrives, before any delay
//	signal           signal (Go's name, e.g. "terminated"), name ("SIGTERM"), signo
//	orphan           child_pid
//	lines_done       stream ("stdout"|"stderr"), lines
//	exit             code (-1 when dying by a signal, then also signal and signo), reason
//	                 (lifetime, signal, quitquitquit, usage, version, bootstrap, admin_bind, ...)
//
// SIGKILL leaves no exit line.
package main
