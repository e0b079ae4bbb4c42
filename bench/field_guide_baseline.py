#!/usr/bin/env python3
"""The naive baseline: the field guide's Python sequence (../shared/seeds, "Phase 1 - Testing MQTT
with Python"), replayed against modemsim. Its timing is kept as written: a 0.1 s sleep after every
command, results polled every 0.1 s, one command at a time, and the fixed 5 s waits after
AT+QMTOPEN and AT+QMTCONN that the guide says the module "often needs".

Three changes, none of which shortens its waits:
  * pyserial is not a Debian-12 dependency of this project, so a few lines of termios stand in
    for serial.Serial (same in_waiting / read / write);
  * the guide's inline AT+QMTPUBEX (payload quoted in the command, the BG96-era form) is answered
    with ERROR by the EC200U, whose AT+QMTPUBEX takes <length> and a "> " prompt
    (field-notes.md 2.2), so the publish uses that form, and send_at_command also stops at ">";
  * after the publish's result it exits instead of listening forever.

Usage: field_guide_baseline.py --port /path/to/modem/link
"""
import argparse
import fcntl
import os
import termios
import time
import tty

BAUD_RATE = 115200


class Serial:
    """The part of pyserial's Serial the field guide uses, on a local (pseudo-)terminal."""

    def __init__(self, port, baudrate, timeout=1):
        self.fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    @property
    def in_waiting(self):
        count = bytearray(4)
        fcntl.ioctl(self.fd, termios.FIONREAD, count)
        return int.from_bytes(count, "little")

    def read(self, n):
        return os.read(self.fd, n)

    def write(self, data):
        return os.write(self.fd, data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def send_at_command(ser, command, timeout=2):
    print(f">>> {command}")
    ser.write((command + "\r\n").encode())
    time.sleep(0.1)
    end = time.time() + timeout
    response = b""
    while time.time() < end:
        if ser.in_waiting:
            response += ser.read(ser.in_waiting)
            if b"OK" in response or b"ERROR" in response or b"+QMT" in response or b">" in response:
                break
        time.sleep(0.1)
    print(f"<<< {response.decode(errors='ignore').strip()}")
    return response.decode(errors='ignore')


def wait_for(ser, text, timeout):
    end = time.time() + timeout
    response = b""
    while time.time() < end:
        if ser.in_waiting:
            response += ser.read(ser.in_waiting)
            if text in response:
                break
        time.sleep(0.1)
    print(f"<<< {response.decode(errors='ignore').strip()}")
    return text in response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True)
    args = parser.parse_args()
    with Serial(args.port, BAUD_RATE, timeout=1) as ser:
        send_at_command(ser, 'AT+QICSGP=1,1,"airtelgprs.com","","",1')
        send_at_command(ser, 'AT+QIACT=1', timeout=10)
        send_at_command(ser, 'AT+QMTOPEN=0,"test.mosquitto.org",1883', timeout=10)
        time.sleep(5)
        send_at_command(ser, 'AT+QMTCONN=0,"client01"', timeout=10)
        time.sleep(5)
        send_at_command(ser, 'AT+QMTSUB=0,1,"home/sensors/temperature",0')
        payload = '{"temp":25.5}'
        pub = f'AT+QMTPUBEX=0,0,0,0,"home/sensors/temperature",{len(payload)}'
        send_at_command(ser, pub)
        ser.write(payload.encode())
        return 0 if wait_for(ser, b"+QMTPUBEX: 0,0,0", timeout=10) else 1


if __name__ == "__main__":
    raise SystemExit(main())
