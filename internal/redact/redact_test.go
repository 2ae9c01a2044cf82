package redact

import "testing"

func TestValue(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:SECRET@host:4317/":                     "http://u:REDACTED@host:4317/",
		"https://host/?api_key=K&region=x":               "https://host/?api_key=REDACTED&region=x",
		"https://host/path":                              "https://host/path",
		"grpc://user@host:4317":                          "grpc://user@host:4317",
		"http://h/?X-Amz-Signature=abc&X-Amz-Date=today": "http://h/?X-Amz-Date=today&X-Amz-Signature=REDACTED",
		"https://user:s3cret@xds.example.com:443/path":   "https://user:REDACTED@xds.example.com:443/path",
		"http://169.254.169.254":                         "http://169.254.169.254",
		"unix:///var/run/relay.sock":                     "unix:///var/run/relay.sock",
		"plain value with spaces":                        "plain value with spaces",
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}

// Issue 16, item 8: credentials inside an error message or a log line, quoted or not.
func TestText(t *testing.T) {
	for in, want := range map[string]string{
		`OTEL_EXPORTER_OTLP_ENDPOINT: "http://u:SECRET@host:4317/?api_key=KEY123": credentials in the URL are not supported`: `OTEL_EXPORTER_OTLP_ENDPOINT: "http://u:REDACTED@host:4317/?api_key=REDACTED": credentials in the URL are not supported`,
		`Get "http://u:***@127.0.0.1:1/v4?token=T0KEN/task": dial tcp: refused`:                                              `Get "http://u:REDACTED@127.0.0.1:1/v4?token=REDACTED": dial tcp: refused`,
		`endpoint=https://h/x?a=1&Access-Key=AK;sessionToken=ST#frag rest`:                                                   `endpoint=https://h/x?a=1&Access-Key=REDACTED;sessionToken=REDACTED#frag rest`,
		`nothing secret: a=1 b=2`:                       `nothing secret: a=1 b=2`,
		`keys named like secrets in plain text token=x`: `keys named like secrets in plain text token=x`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}
