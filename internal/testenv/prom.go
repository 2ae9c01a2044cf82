package testenv

import (
	"bytes"
	"fmt"
	"io"
)

// PromBody builds an Envoy-like Prometheus body with n series. appmeshShare of them (0..1)
// belong to metrics-extension families (envoy_appmesh_*, five labels, as the extension
// emits), spread over families of 2,000 series, one in ten a histogram; the rest are
// ordinary Envoy cluster counters.
func PromBody(n int, appmeshShare float64) []byte {
	var b bytes.Buffer
	ext := int(float64(n) * appmeshShare)
	const perFamily = 2000
	series := 0
	for f := 0; series < ext; f++ {
		name := fmt.Sprintf("envoy_appmesh_Family%03d", f)
		if f%10 == 9 {
			// A histogram: every bucket line, _sum and _count is a series.
			fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
			for i := 0; series < ext && i < perFamily/14; i++ {
				lbl := fmt.Sprintf(`Mesh="mesh",VirtualNode="vn-%d",TargetVirtualNode="target-%d",TargetVirtualService="svc-%d.local"`, i%7, i, i%13)
				cum := 0
				for j, le := range []string{"0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000"} {
					cum += j
					fmt.Fprintf(&b, "%s_bucket{%s,le=\"%s\"} %d\n", name, lbl, le, cum)
				}
				fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n%s_sum{%s} %d.5\n%s_count{%s} %d\n", name, lbl, cum, name, lbl, cum*7, name, lbl, cum)
				series += 15
			}
			continue
		}
		kind := "counter"
		if f%3 == 2 {
			kind = "gauge"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, kind)
		for i := 0; series < ext && i < perFamily; i++ {
			fmt.Fprintf(&b, "%s{Mesh=\"mesh\",VirtualNode=\"vn-%d\",TargetVirtualNode=\"target-%d\",TargetVirtualService=\"svc-%d.local\",StatusCode=\"%d\"} %d\n",
				name, i%7, i, i%13, 200+i%5, i*31)
			series++
		}
	}
	for f := 0; series < n; f++ {
		name := fmt.Sprintf("envoy_cluster_upstream_rq_%03d", f)
		fmt.Fprintf(&b, "# TYPE %s counter\n", name)
		for i := 0; series < n && i < perFamily; i++ {
			fmt.Fprintf(&b, "%s{envoy_cluster_name=\"cluster-%d\"} %d\n", name, i, i)
			series++
		}
	}
	return b.Bytes()
}

// RepeatReader streams line over and over, n bytes in all (the last copy cut short): a large
// body without holding it in memory.
func RepeatReader(line []byte, n int) io.Reader {
	return &repeatReader{line: line, left: n}
}

type repeatReader struct {
	line []byte
	left int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:min(len(p), n+r.left)], r.line[r.off:])
		r.off = (r.off + c) % len(r.line)
		n += c
		r.left -= c
	}
	return n, nil
}
