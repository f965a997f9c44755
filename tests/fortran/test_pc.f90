! Probabilistic circuits from Fortran.  Oracles: brute force over every joint state (the
! probabilities of all states sum to 1; a marginal query with NaN equals the sum of the
! joint over the states it covers; MAP of a deterministic circuit is the most probable
! state), the file round trip (%.17g: bit-identical log-likelihoods), and EM's ascent
! property (full-batch EM never lowers the training log-likelihood).
program test_pc
  use, intrinsic :: iso_c_binding
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use latens
  implicit none
  integer :: failures = 0
  ! The work runs in a procedure, so that its allocatables are released and its handles
  ! finalised on return (main-program variables are never deallocated: leak checkers
  ! would report them).
  call run()
contains
  subroutine run()
    type(latens_pc_circuit) :: pc, back, tree
    type(latens_pc_em_options) :: opt
    type(latens_pc_em_result) :: res
    type(latens_rng) :: rng
    real(c_double), allocatable :: x(:, :), ll(:), ll2(:), q(:, :), lq(:), train(:, :), y(:, :)
    real(c_double), allocatable :: xm(:, :), logp(:)
    real(c_double) :: nan, total, brute, worst, ll0
    character(:), allocatable :: srcdir, tmp
    integer :: ncat(4), n, i, j, v, lenv, imax
    integer :: u(8), p1, p2, top
    failures = 0
    nan = ieee_value(1d0, ieee_quiet_nan)

    ! A mixture of two fully factorised distributions over 3 binary variables and one with
    ! 3 categories.
    ncat = [2, 2, 2, 3]
    call pc%create(4, ncat)
    call pc%add_bernoulli(1, 0.3d0, u(1))
    call pc%add_bernoulli(2, 0.6d0, u(2))
    call pc%add_bernoulli(3, 0.1d0, u(3))
    call pc%add_categorical(4, [0.2d0, 0.5d0, 0.3d0], u(4))
    call pc%add_bernoulli(1, 0.8d0, u(5))
    call pc%add_bernoulli(2, 0.25d0, u(6))
    call pc%add_bernoulli(3, 0.5d0, u(7))
    call pc%add_categorical(4, id=u(8))
    call pc%add_product(u(1:4), p1)
    call pc%add_product(u(5:8), p2)
    call pc%add_sum([p1, p2], [0.4d0, 0.6d0], top)
    call pc%finalize()
    print '(a,i0,a,i0,a)', 'circuit: ', pc%nunits(), ' units, ', pc%nparams(), ' parameters'

    ! Every joint state (24) and its probability.
    n = 2 * 2 * 2 * 3
    allocate(x(n, 4), ll(n))
    i = 0
    do v = 0, 2
       do j = 0, 7
          i = i + 1
          x(i, 1:3) = [real(iand(j, 1), c_double), real(iand(j / 2, 1), c_double), &
               real(iand(j / 4, 1), c_double)]
          x(i, 4) = v
       end do
    end do
    call latens_pc_loglik(pc, x, ll)
    total = sum(exp(ll))
    print '(a,i0,a,es23.15)', 'sum of p over all ', n, ' states: ', total
    call check(abs(total - 1) <= 1d-12, 'probabilities sum to 1')

    ! Marginals: x_j = v with the others NaN, against the brute-force sum.
    allocate(q(1, 4), lq(1))
    worst = 0
    do j = 1, 4
       do v = 0, ncat(j) - 1
          q = nan
          q(1, j) = v
          call latens_pc_loglik(pc, q, lq)
          brute = sum(exp(ll), mask=x(:, j) == v)
          worst = max(worst, abs(exp(lq(1)) - brute))
       end do
    end do
    print '(a,es10.2)', 'marginals vs brute force: max |diff| ', worst
    call check(worst <= 1d-14, 'marginals equal brute-force sums')
    q = nan
    call latens_pc_loglik(pc, q, lq)
    call check(abs(lq(1)) <= 1d-14, 'all-missing row has log p = 0')

    ! Save and load: bit-identical log-likelihoods.
    tmp = 'test_pc_fortran.tmp.pc'
    call pc%save(tmp)
    call back%load(tmp)
    allocate(ll2(n))
    call latens_pc_loglik(back, x, ll2)
    call check(all(ll2 == ll), 'saved and loaded circuit gives identical log-likelihoods')
    open(newunit=i, file=tmp)
    close(i, status='delete')

    ! EM from samples of pc, starting from a copy with flattened parameters.
    call rng%init(11_c_int64_t)
    allocate(train(3000, 4))
    train = nan
    call latens_pc_sample(pc, train, rng)
    call check(all(train(:, 1:3) == 0 .or. train(:, 1:3) == 1) .and. &
         all(train(:, 4) >= 0 .and. train(:, 4) <= 2), 'samples are valid states')
    call back%create(4, ncat)
    call back%add_bernoulli(1, 0.5d0, u(1))
    call back%add_bernoulli(2, 0.5d0, u(2))
    call back%add_bernoulli(3, 0.4d0, u(3))
    call back%add_categorical(4, id=u(4))
    call back%add_bernoulli(1, 0.6d0, u(5))
    call back%add_bernoulli(2, 0.5d0, u(6))
    call back%add_bernoulli(3, 0.5d0, u(7))
    call back%add_categorical(4, [0.3d0, 0.3d0, 0.4d0], u(8))
    call back%add_product(u(1:4), p1)
    call back%add_product(u(5:8), p2)
    call back%add_sum([p1, p2], id=top)
    call back%finalize()
    deallocate(ll2)
    allocate(ll2(size(train, 1)))
    call latens_pc_loglik(back, train, ll2)
    ll0 = sum(ll2) / size(ll2)
    opt = latens_pc_em_options_default()
    opt%epochs = 30
    call latens_pc_em(back, train, opt, result=res)
    call latens_pc_loglik(back, train, ll2)
    print '(a,f10.5,a,f10.5,a,i0,a)', 'EM: mean train LL ', ll0, ' -> ', sum(ll2) / size(ll2), &
         ' (', res%epochs, ' epochs)'
    call check(sum(ll2) / size(ll2) >= ll0, 'EM does not lower the training log-likelihood')

    ! Chow-Liu tree learnt on NLTCS (16 binary variables): brute force over all 2^16 states.
    call get_environment_variable('LATENS_SRCDIR', length=lenv)
    if (lenv > 0) then
       allocate(character(lenv) :: srcdir)
       call get_environment_variable('LATENS_SRCDIR', srcdir)
    else
       srcdir = '.'
    end if
    call latens_read_table(srcdir // '/data/nltcs.valid.data', y)
    call tree%learn_cltree(y, alpha=1d0)
    call check(tree%is_deterministic(), 'a Chow-Liu tree circuit is deterministic')
    n = 2**16
    deallocate(x, ll)
    allocate(x(n, 16), ll(n))
    do i = 1, n
       do j = 1, 16
          x(i, j) = ibits(i - 1, j - 1, 1)
       end do
    end do
    call latens_pc_loglik(tree, x, ll)
    total = sum(exp(ll))
    print '(a,i0,a,es23.15)', 'Chow-Liu tree on ', size(y, 1), ' NLTCS rows: sum of p over 2^16 states ', total
    call check(abs(total - 1) <= 1d-10, 'learnt tree probabilities sum to 1')
    ! MAP with nothing observed = the most probable of the 2^16 states.
    allocate(xm(1, 16), logp(1))
    xm = nan
    call latens_pc_map(tree, xm, logp)
    imax = maxloc(ll, 1)
    print '(a,f12.8,a,f12.8)', 'MAP log p ', logp(1), ', brute-force max ', ll(imax)
    call check(abs(logp(1) - ll(imax)) <= 1d-10 .and. all(xm(1, :) == x(imax, :)), &
         'MAP equals the brute-force most probable state')

    if (failures > 0) error stop 'test_pc: failures'
    print '(a)', 'test_pc: all checks passed'
  end subroutine run
  include 'check.inc'
end program test_pc
