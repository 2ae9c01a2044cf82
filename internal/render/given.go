package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/validate"
)

// fragment is one user fragment merged into the bootstrap: from a file, or from its inline
// twin (path ""). root is its parsed tree, whose nodes the merge grafts into the bootstrap as
// they are, so a problem found later can be traced back to it (locate).
type fragment struct {
	variable string // the variable it came from
	path     string // the file, "" for an inline variable
	root     *yaml.Node
	oneLine  bool // the document is one line (JSON from a program): columns say more than lines
}

// read returns the fragment's bytes: the inline document, or the file's content.
func (f fragment) read(g env.Given, readFile func(string) ([]byte, error)) ([]byte, error) {
	if g.Inline.Set() {
		return g.Inline.Data, nil
	}
	data, err := readFile(g.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.FileVar, err)
	}
	return data, nil
}

// what names the fragment's document in messages: the file, or "the document" for an inline
// variable, whose content is never quoted.
func (f fragment) what() string {
	if f.path == "" {
		return "the document"
	}
	return f.path
}

// inlineBootstrap validates ENVOY_CONFIG, a whole bootstrap given in the variable, as an
// existing ENVOY_CONFIG_FILE is validated, and keeps its bytes as they are for Envoy. Envoy
// chooses its parser by the file's name (MessageUtil::loadFromFile: *.yaml and *.yml are YAML,
// anything else JSON), so the file Write makes is named for what the document is:
// envoy-config.json for a JSON object, envoy-config.yaml for anything else.
func inlineBootstrap(ctx context.Context, cfg *env.Config, opts Options) (*Result, error) {
	data := cfg.Mode.Inline.Data
	name := inlineBootstrapName(data)
	// Read as Envoy will read it: by the name it gets in the private directory.
	b, ps := validate.Read(data, validate.FormatOf(name))
	ps, deprecations, refused := judge(b, ps, cfg.Mode.Validation)
	if refused {
		return nil, fmt.Errorf("ENVOY_CONFIG is not a valid bootstrap:\n%w", locateInDocument(ps.Errors(), "ENVOY_CONFIG", data))
	}
	res := &Result{Bootstrap: b, Bytes: data, Given: "ENVOY_CONFIG", FileName: name, Problems: ps, deprecations: deprecations}
	return given(ctx, cfg, opts, res), nil
}

// InlineJSONName and InlineYAMLName are the names ENVOY_CONFIG's bootstrap gets in the agent's
// private directory.
const (
	InlineJSONName = "envoy-config.json"
	InlineYAMLName = BootstrapName
)

// inlineBootstrapName is the file name under which Envoy reads data in the format it is in.
func inlineBootstrapName(data []byte) string {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' && json.Valid(data) {
		return InlineJSONName
	}
	return InlineYAMLName
}
