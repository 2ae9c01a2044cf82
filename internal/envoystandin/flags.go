package main

import (
	"fmt"
	"strconv"
	"strings"
)

// options is the parsed Envoy command line. Only the fields the stand-in acts on or reports
// in /server_info are kept; every other accepted flag is validated and recorded in argv.
type options struct {
	configPath        string
	configYAML        string
	logLevel          string
	componentLevels   map[string]string
	logPath           string
	logFormat         string // --log-format; "" for Envoy's default
	logFormatEscaped  bool
	concurrency       int
	concurrencySet    bool
	drainTimeS        int
	parentShutdownS   int
	drainStrategy     string
	disableHotRestart bool
	skipDeprecated    bool
	version           bool
	help              bool
	mode              string
	adminAddressPath  string
	serviceCluster    string
	serviceNode       string
	serviceZone       string
	baseID            int
	restartEpoch      int
	ipVersion         string
	enableCoreDump    bool
}

// usageError is Envoy's command-line failure: TCLAP prints "PARSE ERROR" and Envoy exits 1.
type usageError struct{ arg, msg string }

func (e *usageError) Error() string {
	if e.arg == "" {
		return e.msg
	}
	return fmt.Sprintf("PARSE ERROR: Argument: %s\n             %s", e.arg, e.msg)
}

// flagSpec describes one Envoy flag. set is nil for switches (flags without a value).
type flagSpec struct {
	long, short string
	set         func(o *options, v string) error
	sw          func(o *options)
}

func uintFlag(dst func(o *options) *int) func(o *options, v string) error {
	return func(o *options, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("Couldn't read argument value from string '%s'", v)
		}
		*dst(o) = int(n)
		return nil
	}
}

func strFlag(dst func(o *options) *string) func(o *options, v string) error {
	return func(o *options, v string) error { *dst(o) = v; return nil }
}

func oneOf(values ...string) func(dst func(o *options) *string) func(o *options, v string) error {
	return func(dst func(o *options) *string) func(o *options, v string) error {
		return func(o *options, v string) error {
			for _, ok := range values {
				if v == ok {
					*dst(o) = v
					return nil
				}
			}
			return fmt.Errorf("Value '%s' does not meet constraint: %s", v, strings.Join(values, "|"))
		}
	}
}

func ignoreValue(*options, string) error { return nil }

// envoyFlags is the subset of Envoy's command line that a supervisor could plausibly pass.
// Anything else is rejected, as Envoy rejects flags it does not know.
var envoyFlags = []flagSpec{
	{long: "config-path", short: "c", set: strFlag(func(o *options) *string { return &o.configPath })},
	{long: "config-yaml", set: strFlag(func(o *options) *string { return &o.configYAML })},
	{long: "log-level", short: "l", set: setLogLevel},
	{long: "component-log-level", set: setComponentLevels},
	{long: "log-path", set: strFlag(func(o *options) *string { return &o.logPath })},
	{long: "log-format", set: strFlag(func(o *options) *string { return &o.logFormat })},
	{long: "concurrency", set: func(o *options, v string) error {
		o.concurrencySet = true
		return uintFlag(func(o *options) *int { return &o.concurrency })(o, v)
	}},
	{long: "drain-time-s", set: uintFlag(func(o *options) *int { return &o.drainTimeS })},
	{long: "parent-shutdown-time-s", set: uintFlag(func(o *options) *int { return &o.parentShutdownS })},
	{long: "drain-strategy", set: oneOf("gradual", "immediate")(func(o *options) *string { return &o.drainStrategy })},
	{long: "base-id", set: uintFlag(func(o *options) *int { return &o.baseID })},
	{long: "restart-epoch", set: uintFlag(func(o *options) *int { return &o.restartEpoch })},
	{long: "service-cluster", set: strFlag(func(o *options) *string { return &o.serviceCluster })},
	{long: "service-node", set: strFlag(func(o *options) *string { return &o.serviceNode })},
	{long: "service-zone", set: strFlag(func(o *options) *string { return &o.serviceZone })},
	{long: "mode", set: oneOf("serve", "validate", "init_only")(func(o *options) *string { return &o.mode })},
	{long: "admin-address-path", set: strFlag(func(o *options) *string { return &o.adminAddressPath })},
	{long: "local-address-ip-version", set: oneOf("v4", "v6")(func(o *options) *string { return &o.ipVersion })},
	{long: "file-flush-interval-msec", set: uintFlag(func(o *options) *int { return new(int) })},
	{long: "base-id-path", set: ignoreValue},
	{long: "disable-extensions", set: ignoreValue},
	{long: "socket-path", set: ignoreValue},
	{long: "socket-mode", set: ignoreValue},
	{long: "stats-tag", set: ignoreValue},
	{long: "disable-hot-restart", sw: func(o *options) { o.disableHotRestart = true }},
	{long: "skip-deprecated-logs", sw: func(o *options) { o.skipDeprecated = true }},
	{long: "version", sw: func(o *options) { o.version = true }},
	{long: "help", short: "h", sw: func(o *options) { o.help = true }},
	{long: "enable-core-dump", sw: func(o *options) { o.enableCoreDump = true }},
	{long: "use-dynamic-base-id", sw: func(*options) {}},
	{long: "allow-unknown-static-fields", sw: func(*options) {}},
	{long: "reject-unknown-dynamic-fields", sw: func(*options) {}},
	{long: "ignore-unknown-dynamic-fields", sw: func(*options) {}},
	{long: "log-format-escaped", sw: func(o *options) { o.logFormatEscaped = true }},
	{long: "enable-fine-grain-logging", sw: func(*options) {}},
	{long: "enable-mutex-tracing", sw: func(*options) {}},
	{long: "cpuset-threads", sw: func(*options) {}},
}

// logLevels are the names Envoy's -l accepts, in severity order; "warn" is an alias.
var logLevels = []string{"trace", "debug", "info", "warning", "error", "critical", "off"}

func normalizeCLILevel(v string) (string, bool) {
	if v == "warn" {
		return "warning", true
	}
	for _, l := range logLevels {
		if v == l {
			return v, true
		}
	}
	return "", false
}

func setLogLevel(o *options, v string) error {
	l, ok := normalizeCLILevel(v)
	if !ok {
		return &usageError{msg: fmt.Sprintf("error: invalid log level specified '%s'", v)}
	}
	o.logLevel = l
	return nil
}

// setComponentLevels parses "upstream:debug,connection:trace" like Envoy, which refuses
// unknown component names.
func setComponentLevels(o *options, v string) error {
	for _, item := range strings.Split(v, ",") {
		name, level, ok := strings.Cut(item, ":")
		if !ok {
			return &usageError{msg: fmt.Sprintf("error: component log level not correctly specified '%s'", item)}
		}
		l, ok := normalizeCLILevel(level)
		if !ok {
			return &usageError{msg: fmt.Sprintf("error: invalid log level specified '%s'", level)}
		}
		if !isLoggerName(name) {
			return &usageError{msg: fmt.Sprintf("error: invalid component specified '%s'", name)}
		}
		o.componentLevels[name] = l
	}
	return nil
}

func lookupFlag(arg string) *flagSpec {
	for i := range envoyFlags {
		f := &envoyFlags[i]
		if arg == "--"+f.long || (f.short != "" && arg == "-"+f.short) {
			return f
		}
	}
	return nil
}

// parseFlags reads argv (without the program name). It accepts "-c v", "--config-path v"
// and "--config-path=v", refuses repeats as TCLAP does, and never panics on odd input.
func parseFlags(args []string) (*options, error) {
	o := &options{logLevel: "info", drainTimeS: 600, parentShutdownS: 900, drainStrategy: "gradual",
		mode: "serve", ipVersion: "v4", componentLevels: map[string]string{}}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if i+1 < len(args) {
				return nil, &usageError{arg: args[i+1], msg: "Couldn't find match for argument"}
			}
			break
		}
		name, value, hasValue := arg, "", false
		if strings.HasPrefix(arg, "-") {
			if n, v, ok := strings.Cut(arg, "="); ok {
				name, value, hasValue = n, v, true
			}
		}
		f := lookupFlag(name)
		if f == nil {
			return nil, &usageError{arg: arg, msg: "Couldn't find match for argument"}
		}
		if seen[f.long] {
			return nil, &usageError{arg: name, msg: "Argument already set!"}
		}
		seen[f.long] = true
		if f.sw != nil {
			if hasValue {
				return nil, &usageError{arg: arg, msg: "Couldn't find match for argument"}
			}
			f.sw(o)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, &usageError{arg: name, msg: "Missing a value for this argument!"}
			}
			i++
			value = args[i]
		}
		if err := f.set(o, value); err != nil {
			if ue, ok := err.(*usageError); ok {
				return nil, ue
			}
			return nil, &usageError{arg: name, msg: err.Error()}
		}
	}
	return o, nil
}

// usageText is a short imitation of TCLAP's usage output, shown after a parse error.
const usageText = `
Brief USAGE: 
   envoy  [-c <string>] [-l <string>] [--concurrency <uint32_t>] [--drain-time-s <uint32_t>] [--disable-hot-restart] [--skip-deprecated-logs] [--mode <string>] [--version] [-h] ...

For complete USAGE and HELP type: 
   envoy --help
`
