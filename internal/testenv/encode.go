package testenv

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"testing"
)

// GzipBase64 is doc as an inline variable's gzip+base64: value (what
// `"gzip+base64:$(gzip -9nc FILE | base64 -w0)"` stores).
func GzipBase64(tb testing.TB, doc []byte) string {
	tb.Helper()
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write(doc); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return "gzip+base64:" + base64.StdEncoding.EncodeToString(b.Bytes())
}
