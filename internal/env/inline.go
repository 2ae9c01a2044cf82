package env

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxInlineBytes bounds the decoded content of an inline document variable: the limit the
// agent applies to bootstrap and fragment files (validate.MaxDocumentBytes; a test keeps the
// two equal).
const MaxInlineBytes = 4 << 20

// Encodings of an inline document, chosen by the value's prefix.
const (
	prefixBase64     = "base64:"
	prefixGzipBase64 = "gzip+base64:"
)

// InlineDocument is a variable that holds a document instead of naming a file
// (ENVOY_RESOURCES_CONFIG for ENVOY_RESOURCES_CONFIG_FILE, ...): YAML or JSON as it is, or,
// after a "base64:" or "gzip+base64:" prefix, that document encoded, which is how a secret
// store (ECS secrets.valueFrom) delivers multi-line or large content in one value.
//
// The content may hold secrets: it is never printed. Describe shows its size and digest.
type InlineDocument struct {
	// Data is the decoded document; nil when the variable is unset.
	Data []byte
	// Encoding is "" (as it is), "base64" or "gzip+base64".
	Encoding string
}

// Set reports whether the variable holds a document.
func (d *InlineDocument) Set() bool { return d != nil && d.Data != nil }

// Digest is the first 12 hex digits of the SHA-256 of the decoded document: enough to tell
// which version of a parameter the agent received (`sha256sum` of the document's file).
func (d *InlineDocument) Digest() string {
	sum := sha256.Sum256(d.Data)
	return hex.EncodeToString(sum[:6])
}

// Describe says what the variable holds without showing it: size, encoding and digest.
func (d *InlineDocument) Describe() string {
	if !d.Set() {
		return "unset"
	}
	enc := ""
	if d.Encoding != "" {
		enc = ", " + d.Encoding
	}
	unit := "bytes"
	if len(d.Data) == 1 {
		unit = "byte"
	}
	return fmt.Sprintf("%d %s%s, sha256 %s", len(d.Data), unit, enc, d.Digest())
}

// DecodeRaw takes the value as set, not trimmed, so that the first line of a YAML document
// may be indented like the others; blank values never get here. Errors say which encoding
// failed and never quote the value.
func (d *InlineDocument) DecodeRaw(v string) error {
	t := strings.TrimSpace(v)
	var (
		data []byte
		err  error
	)
	switch {
	case strings.HasPrefix(t, prefixGzipBase64):
		d.Encoding = "gzip+base64"
		data, err = decodeGzipBase64(t[len(prefixGzipBase64):])
	case strings.HasPrefix(t, prefixBase64):
		d.Encoding = "base64"
		data, err = decodeBase64(t[len(prefixBase64):], prefixBase64)
	default:
		d.Encoding = ""
		if len(v) > MaxInlineBytes {
			return tooLargeInline(int64(len(v)), "")
		}
		data = []byte(v)
	}
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("the %s content decodes to nothing (want a YAML or JSON document)", d.Encoding)
	}
	d.Data = data
	return nil
}

// Decode is DecodeRaw for callers that have only the trimmed value.
func (d *InlineDocument) Decode(v string) error { return d.DecodeRaw(v) }

// decodeBase64 decodes standard base64 (padded or not); line breaks and spaces are skipped, as
// `base64` wraps its output at 76 columns. The decoded size is checked before decoding.
func decodeBase64(s, prefix string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, fmt.Errorf("nothing follows %q (want %sBASE64)", prefix, prefix)
	}
	if n := int64(base64.RawStdEncoding.DecodedLen(len(strings.TrimRight(s, "=")))); n > MaxInlineBytes {
		return nil, tooLargeInline(n, "base64")
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		var corrupt base64.CorruptInputError
		if errors.As(err, &corrupt) {
			return nil, fmt.Errorf("the %s content is not valid base64 (standard alphabet A-Z a-z 0-9 + /, as `base64 -w0` writes): bad character or padding at offset %d", prefix, int64(corrupt))
		}
		return nil, fmt.Errorf("the %s content is not valid base64: %v", prefix, err)
	}
	return data, nil
}

// decodeGzipBase64 decodes base64, then gunzips at most MaxInlineBytes+1 bytes: a small value
// that inflates to gigabytes (a gzip bomb) costs no more than the limit.
func decodeGzipBase64(s string) ([]byte, error) {
	compressed, err := decodeBase64(s, prefixGzipBase64)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("the %s content is valid base64 but not gzip data (%v): compress with `gzip -c FILE | base64 -w0`", prefixGzipBase64, err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, MaxInlineBytes+1))
	if err != nil {
		return nil, fmt.Errorf("the %s content is valid base64 but its gzip data is damaged: %v", prefixGzipBase64, err)
	}
	if len(data) > MaxInlineBytes {
		return nil, tooLargeInline(-1, "gzip+base64")
	}
	return data, nil
}

// tooLargeInline explains the size limit; size < 0 means "more than the limit" (decompression
// stopped there).
func tooLargeInline(size int64, encoding string) error {
	what := "the document is"
	if encoding != "" {
		what = "the " + encoding + " content decodes to"
	}
	amount := "more than 4 MiB"
	if size >= 0 {
		amount = fmt.Sprintf("%.1f MiB", float64(size)/(1<<20))
	}
	return fmt.Errorf("%s %s; the agent reads bootstraps and fragments of at most %d MiB (move large static resources to xDS)",
		what, amount, MaxInlineBytes>>20)
}
