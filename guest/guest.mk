# Guests: the SDK library and the example guests, built with musl-gcc into
# build/guests/ (static x86-64 programs that run under opsub).
GUEST_CFLAGS := -std=gnu11 -O2 -g -static -Wall -Wextra -Werror -Iinclude
GUEST_NAMES  := pktgen sink l2fwd responder firewall scaleecho scalegen
GUESTS       := $(addprefix $(BUILD)/guests/,$(GUEST_NAMES))

$(BUILD)/guests/libopsub.a: guest/sdk/opsub.c include/opsub.h include/opsub_abi.h include/opsub_vring.h \
                            include/nic_regs.h include/nic_ring.h src/nic/null_frame.c include/null_frame.h
	@mkdir -p $(dir $@)
	$(MUSLCC) $(GUEST_CFLAGS) -c -o $(BUILD)/guests/opsub.o guest/sdk/opsub.c
	$(MUSLCC) $(GUEST_CFLAGS) -c -o $(BUILD)/guests/null_frame.o src/nic/null_frame.c
	ar rcs $@ $(BUILD)/guests/opsub.o $(BUILD)/guests/null_frame.o

$(BUILD)/guests/%: guest/examples/%.c guest/examples/pkt.h guest/examples/ip.h guest/examples/scale.h $(BUILD)/guests/libopsub.a
	$(MUSLCC) $(GUEST_CFLAGS) -o $@ $< $(BUILD)/guests/libopsub.a

guests: $(GUESTS)
