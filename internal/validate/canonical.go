package validate

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// CanonicalJSON serialises m stably: protojson with proto field names, re-encoded by encoding/json so that keys
// are sorted and whitespace is fixed (protojson deliberately varies its whitespace between builds). Numbers keep
// their text. The output is byte-identical across builds and ends with a newline.
func CanonicalJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(raw) * 2)
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// CanonicalYAML is CanonicalJSON converted to YAML (keys stay sorted, so it is stable too). Strings that YAML would
// read as something else (yes, 0700, ~) come out quoted.
func CanonicalYAML(m proto.Message) ([]byte, error) {
	j, err := CanonicalJSON(m)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}
