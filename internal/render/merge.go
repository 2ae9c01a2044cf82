package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// userFile is a bootstrap fragment named by a variable.
type userFile struct {
	variable, path string
}

// parseFragment reads YAML (1.1, like the reference) strictly into a generic map whose numbers keep
// their text (json.Number), so large integers survive the merge exactly.
func parseFragment(data []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil // empty or comment-only file
	case map[string]any:
		return m, nil
	}
	return nil, errors.New("the top level must be a mapping of bootstrap fields")
}

// snakeKey turns a top-level key into its proto field name: statsConfig → stats_config, Admin → admin.
func snakeKey(k string) string {
	var b strings.Builder
	for i, r := range k {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalize renames src's top-level keys to proto field names; both spellings of one field is an error.
func normalize(src map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(src))
	from := map[string]string{}
	for _, k := range sortedAnyKeys(src) {
		sk := snakeKey(k)
		if prev, dup := from[sk]; dup {
			return nil, fmt.Errorf("the config contains both %s and %s; specify only one of them", prev, k)
		}
		from[sk] = k
		out[sk] = src[k]
	}
	return out, nil
}

// merge folds one user fragment into the generated bootstrap (reference §3.2, with D4):
//   - tracing and stats_config may be given once;
//   - stats_sinks are appended;
//   - static_resources listeners/clusters/secrets are appended (other sub-keys are copied only when
//     nothing was generated there);
//   - any other top-level field replaces the generated one wholesale.
func merge(dst, src map[string]any, variable string) (warnings []string, err error) {
	src, err = normalize(src)
	if err != nil {
		return nil, err
	}
	for _, k := range sortedAnyKeys(src) {
		v := src[k]
		switch k {
		case "tracing":
			if _, ok := dst[k]; ok {
				return nil, errors.New("multiple tracing configurations were specified")
			}
			dst[k] = v
		case "stats_config":
			if _, ok := dst[k]; ok {
				return nil, errors.New("multiple stats configurations were specified")
			}
			dst[k] = v
		case "stats_sinks":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("stats_sinks must be a list, not %s", kind(v))
			}
			prev, _ := dst[k].([]any)
			dst[k] = append(prev, list...)
		case "static_resources":
			w, err := mergeStaticResources(dst, v)
			if err != nil {
				return nil, err
			}
			warnings = append(warnings, w...)
		default:
			if _, ok := dst[k]; ok {
				warnings = append(warnings, fmt.Sprintf("%s replaces the generated %s", variable, k))
			}
			dst[k] = v
		}
	}
	return warnings, nil
}

func mergeStaticResources(dst map[string]any, v any) ([]string, error) {
	src, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("static_resources must be a mapping, not %s", kind(v))
	}
	src, err := normalize(src)
	if err != nil {
		return nil, fmt.Errorf("static_resources: %w", err)
	}
	for _, k := range []string{"listeners", "clusters", "secrets"} {
		if item, ok := src[k]; ok {
			if _, isList := item.([]any); !isList {
				return nil, fmt.Errorf("static_resources.%s must be a list, not %s", k, kind(item))
			}
		}
	}
	have, ok := dst["static_resources"].(map[string]any)
	if !ok {
		dst["static_resources"] = src
		return nil, nil
	}
	var warnings []string
	for _, k := range sortedAnyKeys(src) {
		switch k {
		case "listeners", "clusters", "secrets":
			prev, _ := have[k].([]any)
			have[k] = append(prev, src[k].([]any)...)
		default:
			if _, ok := have[k]; ok {
				return nil, fmt.Errorf("static_resources.%s is already generated", k)
			}
			have[k] = src[k]
		}
	}
	return warnings, nil
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case nil:
		return "null"
	case string:
		return "a string"
	}
	return "a scalar"
}

func sortedAnyKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
