! Error paths and core facilities from Fortran.  Bad input must give a non-zero stat and a
! message naming the cause (no crash, the program goes on); without stat the program must
! end with a non-zero exit status and the message (checked by re-running this program with
! the argument --die, which also installs an error handler written in Fortran).  Core: random streams behave as documented in include/latens/rng.h
! (a bulk fill equals repeated single draws; a copy forks the stream; split(id) depends only
! on the parent's seed and stream).
module test_errors_cb
  use, intrinsic :: iso_c_binding
  use latens
  implicit none
contains
  ! An error handler written in Fortran (used by the --die run).
  subroutine fortran_handler(reason, file, line, status) bind(c)
    type(c_ptr), value :: reason, file
    integer(c_int), value :: line, status
    print '(a,i0,a,a)', 'fortran handler: status ', status, ': ', latens_f_string(reason)
  end subroutine fortran_handler
  ! A drift that refuses to go on past t = 0.5 with LATENS_EDOM.
  subroutine stopping_drift(t, x, theta, f, data, stat)
    real(c_double), intent(in) :: t, x(:), theta(:)
    real(c_double), intent(out) :: f(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    f = -x
    if (t > 0.5d0) stat = LATENS_EDOM
  end subroutine stopping_drift
  subroutine unit_diffusion(t, x, theta, g, data, stat)
    real(c_double), intent(in) :: t, x(:), theta(:)
    real(c_double), intent(out) :: g(:)
    class(*), intent(in) :: data
    integer, intent(inout) :: stat
    g = 1
  end subroutine unit_diffusion
end module test_errors_cb

program test_errors
  use, intrinsic :: iso_c_binding
  use latens
  use test_errors_cb
  implicit none
  integer :: failures = 0
  ! The work runs in a procedure, so that its allocatables are released and its handles
  ! finalised on return (main-program variables are never deallocated: leak checkers
  ! would report them).
  call run()
contains
  subroutine run()
    type(latens_gp_kernel) :: k
    type(latens_sde_model) :: m
    type(latens_pc_circuit) :: pc
    type(latens_causal_graph) :: g
    type(latens_rng) :: r1, r2, c1, c2
    real(c_double), allocatable :: x(:, :)
    real(c_double) :: path(2, 3), tt(3), a(8), b(8), y(50, 2)
    character(512) :: arg
    character(:), allocatable :: self
    integer :: st, u, i, ios, cst
    logical :: found, found_handler
    type(c_funptr) :: handler
    failures = 0

    call get_command_argument(1, arg)
    if (arg == '--die') then
       ! No stat: the wrapper must stop the program with the library's message, after the
       ! installed handler has seen it.
       handler = c_funloc(fortran_handler)
       call latens_set_error_handler(handler)
       call k%parse('no-such-kernel')
       print '(a)', 'not reached'
       stop 0
    end if

    print '(a,a)', 'latens version ', latens_version()
    call check(len(latens_version()) > 0, 'version string')

    call latens_read_table('/nonexistent/x.csv', x, stat=st)
    call report('missing file', st, LATENS_EIO, '/nonexistent/x.csv')

    open(newunit=u, file='test_errors_fortran.tmp.csv', status='replace', action='write')
    write(u, '(a)') 'a,b'
    write(u, '(a)') '1,2'
    write(u, '(a)') '3,abc'
    close(u)
    call latens_read_table('test_errors_fortran.tmp.csv', x, stat=st)
    call report('bad cell in a CSV', st, LATENS_EPARSE, 'test_errors_fortran.tmp.csv:3:2')
    open(newunit=u, file='test_errors_fortran.tmp.csv', status='old')
    close(u, status='delete')

    call k%parse('no-such-kernel', stat=st)
    call report('unknown kernel', st, LATENS_EDOM, 'no-such-kernel')
    call k%parse('matern32')
    call k%set_params([1d0, -2d0], stat=st)
    call report('negative lengthscale', st, LATENS_EDOM, 'lengthscale')

    call m%builtin('no-such-model', stat=st)
    call report('unknown sde model', st, LATENS_EINVAL, 'no-such-model')
    call m%builtin('ou')
    tt = [0d0, 0.5d0, 1d0]
    call r1%init(1_c_int64_t)
    call latens_sde_solve(m, tt, path, r1, stat=st)
    call report('wrong path shape', st, LATENS_EBADLEN, 'x must be d x size(t)')
    call m%create(d=1, m=1, noise=LATENS_SDE_NOISE_ADDITIVE, ntheta=0)
    call m%set_callbacks(stopping_drift, unit_diffusion)
    call latens_sde_solve(m, tt, path(1:1, :), r1, stat=st)
    call report('callback stops the solver', st, LATENS_EDOM, '')

    open(newunit=u, file='test_errors_fortran.tmp.pc', status='replace', action='write')
    write(u, '(a)') '# latens-pc 1'
    write(u, '(a)') 'vars 2'
    write(u, '(a)') 'ncat 2 two'
    close(u)
    call pc%load('test_errors_fortran.tmp.pc', stat=st)
    call report('malformed circuit file', st, LATENS_EPARSE, 'test_errors_fortran.tmp.pc:3')
    open(newunit=u, file='test_errors_fortran.tmp.pc', status='old')
    close(u, status='delete')
    call check(pc%nunits() == 0, 'no circuit after a failed load')

    call r1%fill_normal(y(:, 1))
    y(:, 2) = 3
    call latens_causal_pc(y, g, names=['u', 'v'], stat=st)
    call report('constant column', st, LATENS_EDOM, 'v')
    call latens_causal_pc(y, g, test='wilcoxon', stat=st)
    call report('unknown test', st, LATENS_EINVAL, 'wilcoxon')

    ! Core: random streams.
    call r1%init(99_c_int64_t, 4_c_int64_t)
    call r2%init(99_c_int64_t, 4_c_int64_t)
    call r1%fill_normal(a)
    do i = 1, 8
       b(i) = r2%normal()
    end do
    call check(all(a == b), 'fill_normal equals repeated normal()')
    r2 = r1
    call r1%fill_uniform(a)
    call r2%fill_uniform(b)
    call check(all(a == b) .and. all(a > 0 .and. a < 1), 'assignment forks the stream')
    call r1%split(c1, 5_c_int64_t)
    call r1%fill_uniform(a)
    call r1%split(c2, 5_c_int64_t)
    call c1%fill_uniform(a)
    call c2%fill_uniform(b)
    call check(all(a == b), 'split(5) names the same stream however far the parent has drawn')

    ! Without stat: the program stops with a non-zero status.
    call get_command_argument(0, arg)
    self = trim(arg)
    call execute_command_line(self // ' --die > test_errors_fortran.tmp.err 2>&1', exitstat=ios, &
         cmdstat=cst)
    call check(cst == 0 .and. ios /= 0, 'a failure without stat stops the program')
    open(newunit=u, file='test_errors_fortran.tmp.err', status='old', action='read')
    found = .false.
    found_handler = .false.
    do
       read(u, '(a)', iostat=i) arg
       if (i /= 0) exit
       if (index(arg, 'latens: latens_gp_kernel%parse: ') == 1 .and. &
            index(arg, 'no-such-kernel') > 0) found = .true.
       if (index(arg, 'fortran handler: status 3: ') > 0 .and. index(arg, 'no-such-kernel') > 0) &
            found_handler = .true.
       if (index(arg, 'no-such-kernel') > 0) print '(a,a)', 'without stat, output: ', trim(arg)
    end do
    close(u, status='delete')
    print '(a,i0)', 'without stat: exit status ', ios
    call check(found, 'a failure without stat stops with the library message')
    call check(found_handler, 'the Fortran error handler saw the error')

    if (failures > 0) error stop 'test_errors: failures'
    print '(a)', 'test_errors: all checks passed'
  end subroutine run
  include 'check.inc'

  ! stat must be the expected code and the message must mention `needle`.
  subroutine report(what, st, expected, needle)
    character(*), intent(in) :: what, needle
    integer, intent(in) :: st, expected
    character(:), allocatable :: msg
    msg = latens_last_error_message()
    print '(a,a,i0,a,a)', what, ': stat ', st, ', message: ', msg
    call check(st == expected, what // ': status')
    call check(len(msg) > 0 .and. index(msg, needle) > 0, what // ': message names the cause')
  end subroutine report
end program test_errors
