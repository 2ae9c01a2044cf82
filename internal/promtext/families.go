package promtext

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// extensionPrefix marks the App Mesh metrics extension's families in Envoy's output; it is
// stripped from the names the agent serves (docs/API.md).
const extensionPrefix = "envoy_appmesh_"

// Bounds on what the filtered path reads from Envoy. Envoy's filtered body is a few MiB even
// on a large mesh; anything beyond is refused rather than held in memory.
const (
	maxFilteredBody = 64 << 20
	maxLineLength   = 1 << 20
)

var errBodyTooLarge = fmt.Errorf("the stats body from Envoy is larger than %d MiB", maxFilteredBody>>20)

// FilterExtension reads Envoy's exposition from r and renders the metrics-extension families
// (envoy_appmesh_*, the prefix stripped) as /stats/prometheus?filter=metrics_extension serves
// them. Each family takes the fast path when it can (fastpath.go), expfmt otherwise; the
// results are identical. A failure to read r is a *ReadError; any other error is a body that
// is not usable Prometheus text. On error the Exposition returned holds the families rendered
// so far.
func FilterExtension(r io.Reader) (*Exposition, error) {
	ft := &Exposition{}
	var scratch fastScratch
	err := splitFamilies(r, func(family string, block []byte) error {
		out, kind, err := renderFast(block, family, make([]byte, 0, len(block)+len(block)/8), &scratch)
		switch {
		case errors.Is(err, errUseExpfmt):
			return parseBlock(family, block, ft.add)
		case err != nil:
			return err
		case len(out) > 0:
			ft.parts = append(ft.parts, Family{name: family[len(extensionPrefix):], kind: kind, data: out})
		}
		return nil
	})
	return ft, err
}

// splitFamilies cuts the exposition into family blocks and hands each metrics-extension
// block to onBlock. Envoy writes every family in one block (# TYPE line, then its samples),
// so only one family is in memory at a time unless onBlock keeps it. The block is reused
// afterwards.
func splitFamilies(r io.Reader, onBlock func(family string, block []byte) error) error {
	sp := splitter{in: bufio.NewReaderSize(&limitedReader{r: r, n: maxFilteredBody}, 64<<10), onBlock: onBlock,
		seen: map[string]bool{}}
	return sp.run()
}

// splitter cuts the exposition into family blocks.
type splitter struct {
	in      *bufio.Reader
	onBlock func(family string, block []byte) error
	line    int

	family string       // family of the current block
	keep   bool         // the current block is a metrics-extension family
	block  bytes.Buffer // the current block's lines, when kept
	seen   map[string]bool
}

func (sp *splitter) run() error {
	var long []byte
	for {
		chunk, err := sp.in.ReadSlice('\n')
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return &ReadError{err} // before using a partial line
		}
		if long != nil || errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it, within bounds.
			if len(long)+len(chunk) > maxLineLength {
				return fmt.Errorf("line %d is longer than %d bytes", sp.line+1, maxLineLength)
			}
			long = append(long, chunk...)
			if err != nil && err != io.EOF {
				continue
			}
			chunk, long = long, nil
		}
		if len(chunk) > 0 {
			sp.line++
			if lerr := sp.add(chunk); lerr != nil {
				return lerr
			}
		}
		if err == io.EOF {
			return sp.flush()
		}
	}
}

// add files one line (with its newline, if any) into the current block or a new one.
func (sp *splitter) add(line []byte) error {
	text := bytes.TrimSuffix(line, []byte("\n"))
	trimmed := trimLeftBlankTab(text)
	var name string
	switch {
	case len(trimmed) == 0:
		return nil
	case trimmed[0] == '#':
		fields := bytes.Fields(trimmed[1:])
		if len(fields) < 2 || (string(fields[0]) != "TYPE" && string(fields[0]) != "HELP") {
			return sp.appendLine(text) // a plain comment
		}
		name = string(fields[1])
	case sp.keep && sp.continues(trimmed):
		// A sample of the kept family: its parser checks it.
		return sp.appendLine(text)
	default:
		n, err := sampleName(trimmed)
		if err != nil {
			return fmt.Errorf("line %d: %v", sp.line, err)
		}
		if sp.inFamily(n) {
			if !sp.keep {
				return checkSample(trimmed, sp.line)
			}
			return sp.appendLine(text)
		}
		name = n
	}
	if name != sp.family {
		if err := sp.flush(); err != nil {
			return err
		}
		sp.family = name
		sp.keep = strings.HasPrefix(name, extensionPrefix)
		if sp.keep {
			if sp.seen[name] {
				return fmt.Errorf("family %s appears in two places", name)
			}
			sp.seen[name] = true
		}
	}
	if !sp.keep && trimmed[0] != '#' {
		return checkSample(trimmed, sp.line)
	}
	return sp.appendLine(text)
}

// inFamily reports whether a sample named n belongs to the current block: the family's own
// name or a histogram/summary series of it.
func (sp *splitter) inFamily(n string) bool {
	if sp.family == "" || !strings.HasPrefix(n, sp.family) {
		return false
	}
	switch n[len(sp.family):] {
	case "", "_bucket", "_sum", "_count":
		return true
	}
	return false
}

// continues is a quick inFamily for a sample line: its name is the family's, or a
// histogram/summary series of it, followed by a delimiter.
func (sp *splitter) continues(line []byte) bool {
	if sp.family == "" || !bytes.HasPrefix(line, []byte(sp.family)) {
		return false
	}
	rest := line[len(sp.family):]
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if bytes.HasPrefix(rest, []byte(suffix)) {
			rest = rest[len(suffix):]
			break
		}
	}
	return len(rest) > 0 && (rest[0] == '{' || rest[0] == ' ' || rest[0] == '\t')
}

func (sp *splitter) appendLine(text []byte) error {
	if sp.keep {
		sp.block.Write(text)
		sp.block.WriteByte('\n')
	}
	return nil
}

// flush hands the kept block, if any, to onBlock.
func (sp *splitter) flush() error {
	defer sp.block.Reset()
	if !sp.keep || sp.block.Len() == 0 {
		return nil
	}
	return sp.onBlock(sp.family, sp.block.Bytes())
}

// parseBlock parses one family block with expfmt and calls visit with each family in it,
// renamed and normalised.
func parseBlock(family string, block []byte, visit func(*dto.MetricFamily) error) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(block))
	if err != nil {
		return fmt.Errorf("family %s: %w", family, err)
	}
	for _, n := range slices.Sorted(maps.Keys(fams)) {
		mf := fams[n]
		if !strings.HasPrefix(n, extensionPrefix) || len(n) == len(extensionPrefix) {
			return fmt.Errorf("unexpected metric %s in family %s", n, family)
		}
		mf.Name = strPtr(n[len(extensionPrefix):])
		if err := Normalize(mf); err != nil {
			return err
		}
		if err := visit(mf); err != nil {
			return err
		}
	}
	return nil
}

// sampleName returns the metric name at the start of a sample line: legacy names up to '{'
// or a blank, or a quoted name inside the braces ({"name",...}).
func sampleName(line []byte) (string, error) {
	if line[0] == '{' {
		rest := bytes.TrimLeft(line[1:], " \t")
		if len(rest) > 0 && rest[0] == '"' {
			if s, err := strconv.QuotedPrefix(string(rest)); err == nil {
				if n, err := strconv.Unquote(s); err == nil {
					return n, nil
				}
			}
		}
		return "", errors.New("sample without a metric name")
	}
	i := bytes.IndexAny(line, "{ \t")
	if i < 0 {
		i = len(line)
	}
	name := string(line[:i])
	if !model.LegacyValidation.IsValidMetricName(name) {
		return "", fmt.Errorf("invalid metric name %q", truncate(name, 64))
	}
	return name, nil
}

// checkSample is the cheap shape check for a sample the filter skips: after the name and
// the label block come a value and an optional timestamp. It keeps a body that is not
// Prometheus text at all (garbage, HTML, JSON) from passing as "no extension metrics".
func checkSample(line []byte, n int) error {
	rest := line
	if i := bytes.LastIndexByte(line, '}'); i >= 0 {
		rest = line[i+1:]
	} else if i := bytes.IndexAny(line, " \t"); i >= 0 {
		rest = line[i:]
	} else {
		rest = nil
	}
	fields := bytes.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return fmt.Errorf("line %d: expected a value after the metric name and labels", n)
	}
	if _, err := strconv.ParseFloat(string(fields[0]), 64); err != nil {
		return fmt.Errorf("line %d: invalid value %q", n, truncate(string(fields[0]), 32))
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(string(fields[1]), 10, 64); err != nil {
			return fmt.Errorf("line %d: invalid timestamp %q", n, truncate(string(fields[1]), 32))
		}
	}
	return nil
}

// limitedReader fails once more than n bytes were read, instead of io.LimitReader's quiet
// EOF, so an oversized body is an error rather than a truncated (partial) result.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

// ReadError is a failure to read Envoy's body (timeout, reset, too large), as opposed to
// a body that does not parse.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

func strPtr(s string) *string { return &s }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
