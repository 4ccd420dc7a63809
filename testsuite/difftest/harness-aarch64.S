/* Register prologue/epilogue of the aarch64 differential-test harness.
 *
 * The control page at CTRL (0x10001000) holds, at these offsets:
 *   0     address of `difftest_epilogue` (set by harness-aarch64.c)
 *   8     host sp, 16.. x19..x30, 112.. d8..d15   (saved by the prologue)
 *   256   input  x0..x30, 504 input nzcv
 *   512   input  v0..v31
 *   1024  input  fpcr, 1032 input fpsr
 *   1040  output x0..x30, 1288 output nzcv
 *   1296  output v0..v31
 *   1808  output fpcr, 1816 output fpsr
 *   1824  entry address (the `movz x28` before the case)
 */
        .text
        .globl difftest_run
        .type difftest_run, %function
difftest_run:
        movz    x9, #0x1000, lsl #16
        movk    x9, #0x1000
        mov     x10, sp
        str     x10, [x9, #8]
        stp     x19, x20, [x9, #16]
        stp     x21, x22, [x9, #32]
        stp     x23, x24, [x9, #48]
        stp     x25, x26, [x9, #64]
        stp     x27, x28, [x9, #80]
        stp     x29, x30, [x9, #96]
        stp     d8, d9, [x9, #112]
        stp     d10, d11, [x9, #128]
        stp     d12, d13, [x9, #144]
        stp     d14, d15, [x9, #160]
        ldr     x10, [x9, #1024]
        msr     fpcr, x10
        ldr     x10, [x9, #1032]
        msr     fpsr, x10
        ldr     x10, [x9, #504]
        msr     nzcv, x10
        clrex
        mov     x28, x9
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ldr     q\n, [x28, #(512 + 16 * \n)]
        .endr
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,29,30
        ldr     x\n, [x28, #(256 + 8 * \n)]
        .endr
        ldr     x28, [x28, #1824]
        br      x28
        .size difftest_run, . - difftest_run

        .globl difftest_epilogue
        .type difftest_epilogue, %function
difftest_epilogue:
        movz    x28, #0x1000, lsl #16
        movk    x28, #0x1000
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,29,30
        str     x\n, [x28, #(1040 + 8 * \n)]
        .endr
        mrs     x0, nzcv
        str     x0, [x28, #1288]
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        str     q\n, [x28, #(1296 + 16 * \n)]
        .endr
        mrs     x0, fpcr
        str     x0, [x28, #1808]
        mrs     x0, fpsr
        str     x0, [x28, #1816]
        mov     x9, x28
        ldr     x10, [x9, #8]
        mov     sp, x10
        ldp     x19, x20, [x9, #16]
        ldp     x21, x22, [x9, #32]
        ldp     x23, x24, [x9, #48]
        ldp     x25, x26, [x9, #64]
        ldp     x27, x28, [x9, #80]
        ldp     x29, x30, [x9, #96]
        ldp     d8, d9, [x9, #112]
        ldp     d10, d11, [x9, #128]
        ldp     d12, d13, [x9, #144]
        ldp     d14, d15, [x9, #160]
        ret
        .size difftest_epilogue, . - difftest_epilogue
        .section .note.GNU-stack,"",%progbits
