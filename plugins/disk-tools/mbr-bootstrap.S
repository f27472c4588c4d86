# Shadowdisk's MBR bootstrap: the code in bytes 0-439 of a disk's first sector (the partition table and the 0x55AA
# signature after it are never part of it). GNU as, 16-bit real mode; build and compare with mbr-bootstrap.ts:
#   as --32 -o mbr.o mbr-bootstrap.S && objcopy -O binary -j .text mbr.o mbr.bin
#
# What it does, as the classic DOS/Windows MBRs do: the BIOS loads sector 0 at 0000:7C00 and jumps there with the
# boot drive in DL. The code copies itself to 0000:0600 (the active partition's boot sector must be loaded where the
# MBR now sits), finds the first partition entry marked active (0x80), reads that partition's first sector to
# 0000:7C00 (INT 13h extensions by LBA when the BIOS has them, else CHS from the entry), checks its 0x55AA signature
# and jumps to it with DL = boot drive and DS:SI = the active entry (what volume boot records expect). Otherwise it
# prints what is wrong through the BIOS teletype and halts.
        .code16
        .set BASE, 0x600                # where the code runs after relocation; every address below is BASE + label
        .text
start:
        cli                             # no interrupts while the stack moves
        xor   %ax, %ax
        mov   %ax, %ss
        mov   $0x7c00, %sp              # stack grows down from below the loaded sector
        mov   %ax, %ds
        mov   %ax, %es
        sti
        cld
        mov   $0x7c00, %si              # relocate all 512 bytes: 0000:7C00 -> 0000:0600
        mov   $BASE, %di
        mov   $0x100, %cx
        rep movsw
        ljmp  $0, $(BASE + relocated - start)
relocated:
        mov   %dl, (BASE + drive - start)   # keep the boot drive the BIOS passed
        mov   $(BASE + 0x1be), %si      # the partition table of the relocated copy
        mov   $4, %cx
find:
        cmpb  $0x80, (%si)              # active?
        je    found
        add   $16, %si
        loop  find
        mov   $(BASE + msg_noactive - start), %si
        jmp   fail
found:
        mov   $0x41, %ah                # INT 13h extensions present? (BX=55AA in, AA55 out, CX bit 0: packet calls)
        mov   $0x55aa, %bx
        mov   (BASE + drive - start), %dl
        int   $0x13
        jc    chs
        cmp   $0xaa55, %bx
        jne   chs
        test  $1, %cl
        jz    chs
        mov   8(%si), %eax              # the entry's first LBA (32 bits) into the disk address packet
        mov   %eax, (BASE + dap_lba - start)
        push  %si
        mov   $(BASE + dap - start), %si
        mov   $0x42, %ah                # extended read: 1 sector to 0000:7C00
        mov   (BASE + drive - start), %dl
        int   $0x13
        pop   %si
        jc    readerr
        jmp   loaded
chs:
        mov   (BASE + drive - start), %dl
        mov   1(%si), %dh               # head
        mov   2(%si), %cx               # sector (bits 0-5) and cylinder (CL bits 6-7, CH)
        mov   $0x7c00, %bx
        mov   $0x0201, %ax              # read 1 sector
        int   $0x13
        jc    readerr
loaded:
        cmpw  $0xaa55, (0x7dfe)         # a boot sector ends in 55 AA
        jne   nosys
        mov   (BASE + drive - start), %dl
        ljmp  $0, $0x7c00               # DL = drive, DS:SI = active entry
readerr:
        mov   $(BASE + msg_read - start), %si
        jmp   fail
nosys:
        mov   $(BASE + msg_nosys - start), %si
fail:
        lodsb                           # print the message at DS:SI through the BIOS teletype
        test  %al, %al
        jz    halt
        mov   $0x0e, %ah
        mov   $7, %bx
        int   $0x10
        jmp   fail
halt:
        hlt
        jmp   halt
dap:                                    # INT 13h AH=42h disk address packet
        .byte 16, 0                     # packet size, reserved
        .word 1                         # sectors
        .word 0x7c00, 0                 # buffer offset, segment
dap_lba:
        .long 0, 0                      # first LBA (low, high)
drive:
        .byte 0x80
msg_noactive:
        .asciz "Shadowdisk MBR: no active partition\r\n"
msg_read:
        .asciz "Shadowdisk MBR: cannot read the boot sector\r\n"
msg_nosys:
        .asciz "Shadowdisk MBR: no operating system on the active partition\r\n"
