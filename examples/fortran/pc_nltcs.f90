! Learn a Chow-Liu tree circuit on the NLTCS disability survey (16 binary variables) and
! query it: mean test log-likelihood, a marginal P(x1 = 1, x2 = 1) (the other 14 variables
! missing, summed out), and the most probable completion of a partly observed row.
! Usage: pc_nltcs [DATADIR] (default $LATENS_SRCDIR/data).  Build against an installed latens:
!   gfortran -I$(pkg-config --variable=includedir latens)/latens pc_nltcs.f90 \
!     -L$(pkg-config --variable=libdir latens) -llatens_fortran $(pkg-config --libs latens)
program pc_nltcs
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use latens
  implicit none
  ! The work runs in a procedure, so that its allocatables are released and its handles
  ! finalised on return (main-program variables are never deallocated: leak checkers
  ! would report them).
  call run()
contains
  subroutine run()
    character(:), allocatable :: dir
    real(latens_dp), allocatable :: train(:, :), test(:, :), ll(:), q(:, :), lq(:)
    real(latens_dp) :: nan
    type(latens_pc_circuit) :: tree
    integer :: l

    call get_command_argument(1, length=l)
    if (l > 0) then
       allocate(character(l) :: dir)
       call get_command_argument(1, dir)
    else
       call get_environment_variable('LATENS_SRCDIR', length=l)
       allocate(character(l) :: dir)
       if (l > 0) call get_environment_variable('LATENS_SRCDIR', dir)
       dir = dir // '/data'
    end if
    call latens_read_table(dir // '/nltcs.train.data', train)
    call latens_read_table(dir // '/nltcs.test.data', test)

    call tree%learn_cltree(train, alpha=1.0_latens_dp)
    print '(a,i0,a,i0,a,i0,a)', 'Chow-Liu tree on ', size(train, 1), ' rows: ', tree%nunits(), &
         ' units, ', tree%nparams(), ' parameters'
    allocate(ll(size(test, 1)))
    call latens_pc_loglik(tree, test, ll)
    print '(a,f9.4,a)', 'mean test log-likelihood ', sum(ll) / size(ll), ' nats'

    nan = ieee_value(1.0_latens_dp, ieee_quiet_nan)
    allocate(q(1, 16), lq(1))
    q = nan
    q(1, 1:2) = 1
    call latens_pc_loglik(tree, q, lq)
    print '(a,f8.5)', 'P(x1 = 1, x2 = 1) = ', exp(lq(1))

    q = nan
    q(1, 1:4) = [1, 1, 0, 1]
    call latens_pc_map(tree, q, lq)
    print '(a,16i2)', 'most probable completion of (1 1 0 1 ...):', nint(q(1, :))
    print '(a,f9.4)', 'its log-probability ', lq(1)
  end subroutine run
end program pc_nltcs
