package loadtime_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/appnet/appnet-agent/internal/validate" // links every API package, as the agent does
	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

// TestSlotTables fails when a slot names a message or field go-control-plane does not have (a stale generated
// table after an upgrade: rerun scripts/gen-extension-categories.sh), or when an extension type of Envoy's
// metadata is not an API message.
func TestSlotTables(t *testing.T) {
	for msg, fields := range loadtime.Slots() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(msg)
		if err != nil {
			t.Errorf("slot message %s: %v", msg, err)
			continue
		}
		md, ok := d.(protoreflect.MessageDescriptor)
		if !ok {
			t.Errorf("slot %s is not a message", msg)
			continue
		}
		for f, cats := range fields {
			fd := md.Fields().ByName(f)
			if fd == nil || fd.Message() == nil {
				t.Errorf("slot %s.%s: no such message field", msg, f)
			}
			if len(cats) == 0 {
				t.Errorf("slot %s.%s: no category", msg, f)
			}
		}
	}
	for typ, info := range loadtime.ExtensionsByType() {
		if _, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typ)); err != nil {
			t.Errorf("extension type %s (%s) does not resolve: %v", typ, info, err)
		}
	}
	if len(loadtime.Slots()) < 70 || len(loadtime.ExtensionsByType()) < 250 {
		t.Errorf("tables look truncated: %d slot messages, %d extension types", len(loadtime.Slots()), len(loadtime.ExtensionsByType()))
	}
}
