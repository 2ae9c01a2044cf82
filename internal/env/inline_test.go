package env

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// marker stands for a secret in an inline document: no error, warning or listing may show it.
const marker = "S3CR3T-MARKER-7f1c"

func TestInlineDocumentDecodes(t *testing.T) {
	doc := "static_resources:\n  clusters: []  # " + marker + "\n"
	b64 := base64.StdEncoding.EncodeToString([]byte(doc))
	for _, tc := range []struct {
		name, value, want, encoding string
	}{
		{"YAML as is", doc, doc, ""},
		{"first line indented", "  a: 1\n  b: 2\n", "  a: 1\n  b: 2\n", ""},
		{"JSON", `{"a": 1}`, `{"a": 1}`, ""},
		{"base64", "base64:" + b64, doc, "base64"},
		{"base64 without padding", "base64:" + strings.TrimRight(b64, "="), doc, "base64"},
		{"base64 wrapped, space around", " base64:" + b64[:8] + "\n" + b64[8:] + "\n", doc, "base64"},
		{"gzip+base64", testenv.GzipBase64(t, []byte(doc)), doc, "gzip+base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d InlineDocument
			if err := d.DecodeRaw(tc.value); err != nil {
				t.Fatal(err)
			}
			if string(d.Data) != tc.want || d.Encoding != tc.encoding {
				t.Errorf("got %q (%q), want %q (%q)", d.Data, d.Encoding, tc.want, tc.encoding)
			}
			if desc := d.Describe(); strings.Contains(desc, marker) || !strings.Contains(desc, d.Digest()) {
				t.Errorf("Describe() = %q", desc)
			}
		})
	}
}

// A decoding error says which encoding failed, and never quotes the value.
func TestInlineDocumentErrors(t *testing.T) {
	big := strings.Repeat("a", MaxInlineBytes+1)
	for _, tc := range []struct {
		name, value, want string
	}{
		{"bad base64", "base64:" + marker + "%%", "the base64: content is not valid base64"},
		{"bad base64 in gzip+base64", "gzip+base64:" + marker + "%%", "the gzip+base64: content is not valid base64"},
		{"base64 but not gzip", "gzip+base64:" + base64.StdEncoding.EncodeToString([]byte(marker+" plain text")), "the gzip+base64: content is valid base64 but not gzip data"},
		{"truncated gzip", testenv.GzipBase64(t, []byte(marker+strings.Repeat("x", 100)))[:36], "its gzip data is damaged"},
		{"nothing after the prefix", "base64:", `nothing follows "base64:"`},
		{"decodes to blanks", "base64:" + base64.StdEncoding.EncodeToString([]byte("  \n")), "decodes to nothing"},
		{"too large as is", big, "the document is 4.0 MiB"},
		{"too large in base64", "base64:" + base64.StdEncoding.EncodeToString([]byte(big)), "the base64 content decodes to 4.0 MiB"},
		{"too large in gzip", testenv.GzipBase64(t, []byte(big)), "the gzip+base64 content decodes to more than 4 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d InlineDocument
			err := d.DecodeRaw(tc.value)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "aaaa") {
				t.Errorf("the error quotes the value: %v", err)
			}
			if d.Set() {
				t.Error("a document that does not decode is set")
			}
		})
	}
}

// A gzip bomb — a small value that inflates to a gigabyte — is refused having allocated
// about the limit, not the inflated size.
func TestInlineGzipBombIsBounded(t *testing.T) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 1024 { // 1 GiB of zeros: about 1 MiB compressed
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	value := "gzip+base64:" + base64.StdEncoding.EncodeToString(b.Bytes())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var d InlineDocument
	err := d.DecodeRaw(value)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than 4 MiB") {
		t.Fatalf("error %v, want the size limit", err)
	}
	// The base64 decode (~1 MiB), io.ReadAll's growth to MaxInlineBytes+1 (at most ~2x the
	// limit over its doublings) and the decompressor's window: far below 1 GiB.
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*MaxInlineBytes+len(value)); got > limit {
		t.Errorf("decoding the bomb allocated %d bytes, want at most %d", got, limit)
	}
}

func TestInlineVariables(t *testing.T) {
	base := map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	t.Run("both set: an error naming both, for every pair", func(t *testing.T) {
		pairs := [][2]string{{"ENVOY_CONFIG_FILE", "ENVOY_CONFIG"}, {"ENVOY_TRACING_CFG_FILE", "ENVOY_TRACING_CFG"},
			{"ENVOY_STATS_CONFIG_FILE", "ENVOY_STATS_CONFIG"}, {"ENVOY_STATS_SINKS_CFG_FILE", "ENVOY_STATS_SINKS_CFG"},
			{"ENVOY_RESOURCES_CONFIG_FILE", "ENVOY_RESOURCES_CONFIG"}, {"XRAY_SAMPLING_RULE_MANIFEST", "XRAY_SAMPLING_RULES"}}
		for _, p := range pairs {
			_, _, err := load(t, with(p[0], "/f.yaml", p[1], "a: "+marker, "ENABLE_ENVOY_XRAY_TRACING", "true"))
			if err == nil || !strings.Contains(err.Error(), p[0]+", "+p[1]+": both are set") {
				t.Errorf("%s and %s: error %v", p[0], p[1], err)
			}
			if err != nil && strings.Contains(err.Error(), marker) {
				t.Errorf("the error shows the content: %v", err)
			}
		}
	})
	t.Run("a bad value names the variable", func(t *testing.T) {
		_, _, err := load(t, with("ENVOY_RESOURCES_CONFIG", "base64:"+marker+"!"))
		if err == nil || !strings.HasPrefix(err.Error(), "ENVOY_RESOURCES_CONFIG: the base64: content") || strings.Contains(err.Error(), marker) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("an inline fragment replaces what its file replaces", func(t *testing.T) {
		_, warns, err := load(t, with("ENVOY_TRACING_CFG", "tracing: {}", "ENABLE_ENVOY_XRAY_TRACING", "true",
			"ENVOY_STATS_SINKS_CFG", "stats_sinks: []", "ENABLE_ENVOY_DOG_STATSD", "true", "STATSD_PORT", "1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"ENABLE_ENVOY_XRAY_TRACING is ignored: ENVOY_TRACING_CFG is set", "STATSD_PORT is ignored: ENVOY_STATS_SINKS_CFG is set"} {
			if !strings.Contains(strings.Join(warns, "\n"), w) {
				t.Errorf("no warning %q in %q", w, warns)
			}
		}
	})
	t.Run("ENVOY_CONFIG is a bootstrap used as is", func(t *testing.T) {
		c, warns, err := load(t, with("ENVOY_CONFIG", "node: {id: a, cluster: b}", "ENVOY_RESOURCES_CONFIG", "a: 1"))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Mode.BootstrapGiven() || c.Files.ResourcesInline.Set() {
			t.Errorf("BootstrapGiven %v, resources read %v", c.Mode.BootstrapGiven(), c.Files.ResourcesInline.Set())
		}
		if !strings.Contains(strings.Join(warns, "\n"), "ENVOY_RESOURCES_CONFIG is ignored: ENVOY_CONFIG holds a whole bootstrap") {
			t.Errorf("warnings %q", warns)
		}
	})
	t.Run("relay mode ignores ENVOY_CONFIG", func(t *testing.T) {
		c, warns, err := load(t, map[string]string{"APPNET_ENABLE_RELAY_MODE_FOR_XDS": "true", "ENVOY_CONFIG": "node: {}"})
		if err != nil || c.Mode.Inline.Set() || !strings.Contains(strings.Join(warns, "\n"), "ENVOY_CONFIG is ignored: relay mode is on") {
			t.Errorf("err %v, set %v, warnings %q", err, c != nil && c.Mode.Inline.Set(), warns)
		}
	})
	t.Run("InlineSet lists what is set", func(t *testing.T) {
		c, _, err := load(t, with("ENVOY_STATS_CONFIG", "base64:"+base64.StdEncoding.EncodeToString([]byte("stats_config: {}"))))
		if err != nil {
			t.Fatal(err)
		}
		got := c.InlineSet()
		if len(got) != 1 || got[0].Variable != "ENVOY_STATS_CONFIG" || got[0].Doc.Encoding != "base64" {
			t.Errorf("InlineSet() = %+v", got)
		}
	})
}

// `appnet-agent env` shows an inline variable's size, encoding and digest, never its content.
func TestWriteTextHidesInlineContent(t *testing.T) {
	var b strings.Builder
	src := MapSource(map[string]string{
		"ENVOY_RESOURCES_CONFIG": "static_resources: {} # " + marker,
		"ENVOY_TRACING_CFG":      "base64:" + base64.StdEncoding.EncodeToString([]byte("tracing: {} # "+marker)),
		"ENVOY_STATS_CONFIG":     "gzip+base64:" + marker,
	})
	if err := WriteText(&b, src); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, marker) || strings.Contains(out, "S3CR3T") {
		t.Fatalf("env shows inline content:\n%s", out)
	}
	for _, want := range []string{
		"ENVOY_RESOURCES_CONFIG (document) = (hidden: 41 bytes, sha256 ",
		"ENVOY_TRACING_CFG (document) = (hidden: 32 bytes, base64, sha256 ",
		"ENVOY_STATS_CONFIG (document) = (hidden: 30 bytes as set; invalid: the gzip+base64: content is not valid base64",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
