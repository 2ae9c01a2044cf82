package env

import "fmt"

// Given is one document the user gives the bootstrap: a file variable (ENVOY_TRACING_CFG_FILE)
// or its inline twin (ENVOY_TRACING_CFG), named by dropping _FILE. At most one of the two is
// set (a rule checks it).
type Given struct {
	FileVar   string          // the variable naming a file
	InlineVar string          // its inline twin
	Path      string          // the file, or ""
	Inline    *InlineDocument // the inline document (Set() false when unset)
}

// Set reports whether either variable is set.
func (g Given) Set() bool { return g.Path != "" || g.Inline.Set() }

// Variable is the variable that is set (the file's when neither is).
func (g Given) Variable() string {
	if g.Inline.Set() {
		return g.InlineVar
	}
	return g.FileVar
}

// Fragments are the user's bootstrap fragments in the order they are merged (the reference
// agent's), each with its inline twin.
func (c *Config) Fragments() []Given {
	return []Given{c.TracingFragment(), c.StatsFragment(), c.SinksFragment(), c.ResourcesFragment()}
}

// TracingFragment is ENVOY_TRACING_CFG_FILE or ENVOY_TRACING_CFG.
func (c *Config) TracingFragment() Given {
	return Given{"ENVOY_TRACING_CFG_FILE", "ENVOY_TRACING_CFG", c.Tracing.File, &c.Tracing.Inline}
}

// StatsFragment is ENVOY_STATS_CONFIG_FILE or ENVOY_STATS_CONFIG.
func (c *Config) StatsFragment() Given {
	return Given{"ENVOY_STATS_CONFIG_FILE", "ENVOY_STATS_CONFIG", c.Stats.ConfigFile, &c.Stats.ConfigInline}
}

// SinksFragment is ENVOY_STATS_SINKS_CFG_FILE or ENVOY_STATS_SINKS_CFG.
func (c *Config) SinksFragment() Given {
	return Given{"ENVOY_STATS_SINKS_CFG_FILE", "ENVOY_STATS_SINKS_CFG", c.Stats.SinksFile, &c.Stats.SinksInline}
}

// ResourcesFragment is ENVOY_RESOURCES_CONFIG_FILE or ENVOY_RESOURCES_CONFIG.
func (c *Config) ResourcesFragment() Given {
	return Given{"ENVOY_RESOURCES_CONFIG_FILE", "ENVOY_RESOURCES_CONFIG", c.Files.Resources, &c.Files.ResourcesInline}
}

// SamplingRules is the X-Ray sampling manifest: XRAY_SAMPLING_RULE_MANIFEST or XRAY_SAMPLING_RULES.
func (c *Config) SamplingRules() Given {
	return Given{"XRAY_SAMPLING_RULE_MANIFEST", "XRAY_SAMPLING_RULES", c.XRay.Manifest, &c.XRay.Rules}
}

// givenPairs are every file variable with its inline twin, for the rule that only one of
// each pair may be set and for logging what was given inline (an array: no allocation).
func (c *Config) givenPairs() [6]Given {
	return [6]Given{{"ENVOY_CONFIG_FILE", "ENVOY_CONFIG", c.Mode.ConfigFile, &c.Mode.Inline},
		c.TracingFragment(), c.StatsFragment(), c.SinksFragment(), c.ResourcesFragment(), c.SamplingRules()}
}

// InlineSet lists the inline variables that are set, with a description each (size, encoding,
// digest; never the content), for the log.
func (c *Config) InlineSet() []InlineNote {
	var out []InlineNote
	for _, g := range c.givenPairs() {
		if g.Inline.Set() {
			out = append(out, InlineNote{Variable: g.InlineVar, Doc: g.Inline})
		}
	}
	return out
}

// InlineNote names a set inline variable.
type InlineNote struct {
	Variable string
	Doc      *InlineDocument
}

// BootstrapGiven reports a bootstrap the user gave whole, used as is: an existing
// ENVOY_CONFIG_FILE or ENVOY_CONFIG.
func (m Mode) BootstrapGiven() bool { return m.ExistingFile || m.Inline.Set() }

// oneOfEachPair is the rule that a file variable and its inline twin are not both set.
func (l *loader) oneOfEachPair() {
	for _, g := range l.cfg.givenPairs() {
		if g.Path != "" && g.Inline.Set() {
			l.errs = append(l.errs, varError(g.FileVar+", "+g.InlineVar,
				fmt.Sprintf("both are set; set only one: %s names a file, %s holds the same document inline", g.FileVar, g.InlineVar)))
		}
	}
}
