package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/appnet/appnet-agent/internal/env"
)

// samplingRule is one rule of an X-Ray local sampling manifest (version 2).
type samplingRule struct {
	Description string   `json:"description,omitempty"`
	ServiceName *string  `json:"service_name,omitempty"`
	Host        *string  `json:"host,omitempty"`
	HTTPMethod  *string  `json:"http_method,omitempty"`
	URLPath     *string  `json:"url_path,omitempty"`
	FixedTarget *int64   `json:"fixed_target"`
	Rate        *float64 `json:"rate"`
}

type samplingManifest struct {
	Version int             `json:"version"`
	Default *samplingRule   `json:"default"`
	Rules   []*samplingRule `json:"rules"`
}

// samplingManifest returns the manifest path for the X-Ray tracer: the user's validated file, or
// a file written for the validated XRAY_SAMPLING_RULES or a fixed XRAY_SAMPLING_RATE (queued as
// a side file, written only after the bootstrap validates; the two never meet, as the rate is
// not read with rules). The X-Ray default of 5% needs no file.
func (p *plan) samplingManifest(c *env.Config, readFile func(string) ([]byte, error)) (string, error) {
	if rules := c.XRay.Rules; rules.Set() {
		if err := validateSamplingManifest(rules.Data); err != nil {
			return "", fmt.Errorf("XRAY_SAMPLING_RULES: validation failed: %w", err)
		}
		p.sideFiles[samplingRulesPath] = rules.Data
		return samplingRulesPath, nil
	}
	if path := c.XRay.Manifest; path != "" {
		b, err := readFile(path)
		if err != nil {
			return "", fmt.Errorf("XRAY_SAMPLING_RULE_MANIFEST: could not read file %q: %w", path, err)
		}
		if err := validateSamplingManifest(b); err != nil {
			return "", fmt.Errorf("XRAY_SAMPLING_RULE_MANIFEST: validation failed for file %q: %w", path, err)
		}
		return path, nil
	}
	if !c.XRay.SamplingRate.Set {
		return "", nil
	}
	rate := math.Round(c.XRay.SamplingRate.Value*100) / 100
	if rate == 0.05 {
		return "", nil
	}
	body, err := json.Marshal(map[string]any{ // key order fixed by encoding/json's sorting
		"version": 2,
		"default": map[string]any{"service_name": "", "host": "", "http_method": "", "url_path": "", "fixed_target": 1, "rate": rate},
		"rules":   []any{},
	})
	if err != nil {
		return "", err
	}
	p.sideFiles[samplingRulesPath] = body
	return samplingRulesPath, nil
}

// validateSamplingManifest applies the X-Ray SDK's rules for local sampling manifests.
func validateSamplingManifest(b []byte) error {
	var m samplingManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("not a JSON sampling manifest: %w", err)
	}
	switch m.Version {
	case 2:
	case 1:
		return errors.New("version 1 is not supported")
	default:
		return fmt.Errorf("version %d is not supported (want 2)", m.Version)
	}
	if m.Default == nil {
		return errors.New(`the "default" rule is required`)
	}
	if err := checkRule(m.Default, true); err != nil {
		return fmt.Errorf("default rule: %w", err)
	}
	for i, r := range m.Rules {
		if r == nil {
			return fmt.Errorf("rules[%d]: is null", i)
		}
		if err := checkRule(r, false); err != nil {
			return fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	return nil
}

func checkRule(r *samplingRule, isDefault bool) error {
	if r.FixedTarget == nil || *r.FixedTarget < 0 {
		return errors.New("fixed_target must be a non-negative integer")
	}
	if r.Rate == nil || *r.Rate < 0 || *r.Rate > 1 {
		return errors.New("rate must be between 0 and 1")
	}
	set := func(s *string) bool { return s != nil && *s != "" }
	if isDefault {
		if set(r.URLPath) || set(r.Host) || set(r.HTTPMethod) || set(r.ServiceName) {
			return errors.New("the default rule cannot set host, http_method, url_path or service_name")
		}
		return nil
	}
	if r.Host == nil || r.HTTPMethod == nil || r.URLPath == nil {
		return errors.New("host, http_method and url_path are required")
	}
	if set(r.ServiceName) {
		return errors.New("service_name is not allowed in version 2 (use host)")
	}
	return nil
}
