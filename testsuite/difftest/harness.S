/* Register prologue/epilogue of the riscv64 differential-test harness.
 *
 * The control page at CTRL (0x10001000) holds, at these offsets:
 *   0     address of `difftest_epilogue` (set by harness.c)
 *   8     host sp, 16 ra, 24 gp, 32 tp, 40.. s0..s11   (saved by the prologue)
 *   136   fs0..fs11                                      (saved by the prologue)
 *   256   input  x0..x31 (x0 and x31 ignored)
 *   512   input  f0..f31
 *   768   input  fcsr
 *   1024  output x0..x31
 *   1280  output f0..f31
 *   1536  output fcsr
 *   1600  entry address (the `lui x31` before the case)
 *   1616  scratch doubleword for the `sc.d` that drops a reservation
 * The case runs with x31 = 0x10000000 (the memory block); the code at
 * the entry address starts with `lui x31, 0x10000` and ends with a jump back
 * here.
 */
        .equ CTRL_HI, 0x10001

        .text
        .globl difftest_run
        .type difftest_run, @function
difftest_run:
        lui     t0, CTRL_HI
        sd      sp, 8(t0)
        sd      ra, 16(t0)
        sd      gp, 24(t0)
        sd      tp, 32(t0)
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11
        sd      s\n, (40 + 8 * \n)(t0)
        fsd     fs\n, (136 + 8 * \n)(t0)
        .endr
        ld      t1, 768(t0)
        fscsr   t1
        /* Drop any LR reservation a previous case left (a failing sc
         * clears it), so every case starts without one. */
        addi    t1, t0, 1616
        sc.d    zero, zero, (t1)
        mv      x31, t0
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        fld     f\n, (512 + 8 * \n)(x31)
        .endr
        .irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
        ld      x\n, (256 + 8 * \n)(x31)
        .endr
        ld      x31, 1600(x31)
        jr      x31
        .size difftest_run, . - difftest_run

        .globl difftest_epilogue
        .type difftest_epilogue, @function
difftest_epilogue:
        lui     x31, CTRL_HI
        .irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
        sd      x\n, (1024 + 8 * \n)(x31)
        .endr
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        fsd     f\n, (1280 + 8 * \n)(x31)
        .endr
        frcsr   x1
        sd      x1, 1536(x31)
        mv      t0, x31
        ld      sp, 8(t0)
        ld      ra, 16(t0)
        ld      gp, 24(t0)
        ld      tp, 32(t0)
        .irp n,0,1,2,3,4,5,6,7,8,9,10,11
        ld      s\n, (40 + 8 * \n)(t0)
        fld     fs\n, (136 + 8 * \n)(t0)
        .endr
        ret
        .size difftest_epilogue, . - difftest_epilogue
        .section .note.GNU-stack,"",@progbits
