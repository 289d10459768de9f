/*
 * snp-guest-report: request an SEV-SNP ATTESTATION_REPORT through the
 * /dev/sev-guest SNP_GET_REPORT ioctl (Linux uapi <linux/sev-guest.h>) and
 * write the raw report (0x4A0 = 1184 bytes) to standard output.
 *
 * The snpapp guest uses it when the kernel has no configfs-tsm report
 * interface (Linux < 6.7). Built static so the busybox initramfs needs no libc.
 *
 * Usage: snp-guest-report [-l VMPL] REPORT_DATA_HEX
 *   REPORT_DATA_HEX  the 64-byte REPORT_DATA as 128 hex digits
 *   -l VMPL          the VMPL to report (0-3, default 0)
 *
 * Exit status (stdout carries the report only on 0; stderr names the cause):
 *   0  report written
 *   1  error (I/O, short or malformed reply)
 *   2  no interface: /dev/sev-guest does not exist or has no driver behind it
 *      (not an SNP guest, or the sev-guest module is not loaded)
 *   3  refused: the driver or the PSP firmware rejected the request
 *   64 usage error
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#define DEVICE "/dev/sev-guest"
#define REPORT_SIZE 0x4A0
/* MSG_REPORT_RSP: status (u32), report_size (u32), 24 reserved bytes, report. */
#define RSP_HEADER 0x20

enum { EXIT_REPORT = 0, EXIT_ERROR = 1, EXIT_NO_INTERFACE = 2, EXIT_REFUSED = 3, EXIT_USAGE = 64 };

static int usage(void)
{
	fprintf(stderr, "usage: snp-guest-report [-l VMPL] REPORT_DATA_HEX (128 hex digits)\n");
	return EXIT_USAGE;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct snp_report_req req;
	struct snp_report_resp resp;
	struct snp_guest_request_ioctl guest_req;
	unsigned long vmpl = 0;
	int opt;

	memset(&req, 0, sizeof(req));
	while ((opt = getopt(argc, argv, "l:")) != -1) {
		char *end;
		if (opt != 'l')
			return usage();
		vmpl = strtoul(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || vmpl > 3)
			return usage();
	}
	if (optind != argc - 1 || parse_hex(argv[optind], req.user_data, sizeof(req.user_data)))
		return usage();
	req.vmpl = (uint32_t)vmpl;

	int fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		fprintf(stderr, "snp-guest-report: cannot open %s: %s\n", DEVICE, strerror(err));
		if (err == ENOENT || err == ENODEV || err == ENXIO)
			return EXIT_NO_INTERFACE;
		return EXIT_ERROR;
	}

	memset(&resp, 0, sizeof(resp));
	memset(&guest_req, 0, sizeof(guest_req));
	guest_req.msg_version = 1;
	guest_req.req_data = (uint64_t)(uintptr_t)&req;
	guest_req.resp_data = (uint64_t)(uintptr_t)&resp;
	if (ioctl(fd, SNP_GET_REPORT, &guest_req) < 0) {
		int err = errno;
		fprintf(stderr,
			"snp-guest-report: SNP_GET_REPORT failed: %s (firmware error %#x, VMM error %#x)\n",
			strerror(err), guest_req.fw_error, guest_req.vmm_error);
		close(fd);
		return err == ENOTTY ? EXIT_NO_INTERFACE : EXIT_REFUSED;
	}
	close(fd);

	uint32_t status, size;
	memcpy(&status, resp.data, sizeof(status));
	memcpy(&size, resp.data + 4, sizeof(size));
	if (status != 0) {
		fprintf(stderr, "snp-guest-report: firmware refused the report: status %#x\n", status);
		return EXIT_REFUSED;
	}
	if (size != REPORT_SIZE) {
		fprintf(stderr, "snp-guest-report: report is %u bytes, expected %u\n", size,
			REPORT_SIZE);
		return EXIT_ERROR;
	}
	if (write_all(STDOUT_FILENO, resp.data + RSP_HEADER, REPORT_SIZE) < 0) {
		fprintf(stderr, "snp-guest-report: cannot write the report: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_REPORT;
}
