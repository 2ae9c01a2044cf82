package loadtime

import (
	"math"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// facts are what rules need to know about the bootstrap beyond the message they check, computed on first use.
type facts struct {
	b        *bootstrapv3.Bootstrap
	clusters map[string]*clusterv3.Cluster
	runtime  map[string]*structpb.Value
}

func newFacts(b *bootstrapv3.Bootstrap) *facts { return &facts{b: b} }

// bootstrap is never nil: rules may call getters on it freely.
func (c *Context) bootstrap() *bootstrapv3.Bootstrap {
	if c.facts.b == nil {
		c.facts.b = &bootstrapv3.Bootstrap{}
	}
	return c.facts.b
}

// staticCluster returns the static cluster with that name, or nil.
func (c *Context) staticCluster(name string) *clusterv3.Cluster {
	f := c.facts
	if f.clusters == nil {
		f.clusters = map[string]*clusterv3.Cluster{}
		for _, cl := range c.bootstrap().GetStaticResources().GetClusters() {
			if _, dup := f.clusters[cl.GetName()]; !dup {
				f.clusters[cl.GetName()] = cl
			}
		}
	}
	return f.clusters[name]
}

// runtimeFlag reads a boolean key of the static runtime layers (later layers win, nested maps are dotted keys, as
// in Envoy's loader); def is returned when no layer sets it.
func (c *Context) runtimeFlag(key string, def bool) bool {
	v := c.runtimeValue(key)
	if v == nil {
		return def
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_BoolValue:
		return k.BoolValue
	case *structpb.Value_StringValue:
		return k.StringValue == "true"
	case *structpb.Value_NumberValue:
		return k.NumberValue != 0
	}
	return def
}

// runtimeInteger reads a key of the static runtime layers as Envoy's Snapshot::getInteger does: a non-negative
// number, or a string that parses as one, floored; ok is false when no layer sets it so.
func (c *Context) runtimeInteger(key string) (n uint64, ok bool) {
	v := c.runtimeValue(key)
	f := v.GetNumberValue()
	if s, isString := v.GetKind().(*structpb.Value_StringValue); isString {
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(s.StringValue), 64); err != nil {
			return 0, false
		}
	} else if _, isNumber := v.GetKind().(*structpb.Value_NumberValue); !isNumber {
		return 0, false
	}
	if !(f >= 0 && f <= math.MaxUint64) {
		return 0, false
	}
	return uint64(f), true
}

// runtimeValue returns a key's value in the static runtime layers (later layers win, nested maps are dotted keys),
// or nil.
func (c *Context) runtimeValue(key string) *structpb.Value {
	f := c.facts
	if f.runtime == nil {
		if len(c.bootstrap().GetLayeredRuntime().GetLayers()) == 0 {
			return nil // no static layer: nothing to flatten, and nothing allocated for the common case
		}
		f.runtime = map[string]*structpb.Value{}
		for _, layer := range c.bootstrap().GetLayeredRuntime().GetLayers() {
			flattenRuntime(f.runtime, "", layer.GetStaticLayer(), 0)
		}
	}
	return f.runtime[key]
}

func flattenRuntime(out map[string]*structpb.Value, prefix string, st *structpb.Struct, depth int) {
	for k, v := range st.GetFields() {
		if prefix != "" {
			k = prefix + "." + k
		}
		if sub := v.GetStructValue(); sub != nil && depth < 16 {
			flattenRuntime(out, k, sub, depth+1)
			continue
		}
		out[k] = v
	}
}

// runtimeNumber reads a number from the static runtime layers (as runtimeFlag does a boolean).
func (c *Context) runtimeNumber(key string) (float64, bool) {
	c.runtimeFlag(key, false) // fills the flattened layers
	switch k := c.facts.runtime[key].GetKind().(type) {
	case *structpb.Value_NumberValue:
		return k.NumberValue, true
	case *structpb.Value_StringValue:
		if v, err := strconv.ParseFloat(k.StringValue, 64); err == nil {
			return v, true
		}
	}
	return 0, false
}
