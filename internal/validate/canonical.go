package validate

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
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

// CanonicalYAML serialises m as the YAML Envoy reads: the values of CanonicalJSON (proto field names, "@type" in
// each Any, well-known types in their JSON form), written directly from the message with sorted keys, block style
// and two-space indentation, so it is byte-stable too. Strings are plain only when every YAML 1.1 and 1.2 reader
// and Envoy's loader take them as that string; otherwise they are double-quoted, with escapes for anything YAML
// forbids or might fold. Decode reads the output back as exactly m, with one exception no YAML can avoid: a
// google.protobuf.Struct number that is not an integer in int32 range, which Envoy's YAML loader (and Decode) read
// as a string. Bootstraps decoded from YAML never hold one; for one decoded from JSON, write CanonicalJSON.
func CanonicalYAML(m proto.Message) ([]byte, error) {
	e := &yamlEmitter{out: make([]byte, 0, 8192), stack: make([]yamlEntry, 0, 64)}
	if err := e.document(m.ProtoReflect()); err != nil {
		return nil, err
	}
	return e.out, nil
}
