! Smooth the Nile series (data/nile.csv, 100 annual flows) with a Matérn-3/2 GP.
! Oracles: (1) the C library's own result, computed through its C API (bind(c) calls
! declared here, without the Fortran wrappers) on the same data: identical numbers;
! (2) the dense GP posterior written out here: K from the closed-form Matérn-3/2 kernel,
! A = K + noise I, Cholesky A = L L^T, mean = K A^{-1} y, var_i = K_ii - k_i^T A^{-1} k_i,
! log marginal likelihood -y^T A^{-1} y / 2 - sum log L_ii - n log(2 pi) / 2.
program test_gp
  use, intrinsic :: iso_c_binding
  use latens
  implicit none
  type, bind(c) :: series_c
     integer(c_size_t) :: n
     type(c_ptr) :: t, y, noise_var
  end type series_c
  interface
     function c_posterior(k, noise, series, tq, nq, mean, var) bind(c, name='latens_gp_posterior')
       import :: c_ptr, c_double, c_size_t, c_int, series_c
       type(c_ptr), value :: k
       real(c_double), value :: noise
       type(series_c), intent(in) :: series
       type(c_ptr), value :: tq
       integer(c_size_t), value :: nq
       real(c_double), intent(out) :: mean(*), var(*)
       integer(c_int) :: c_posterior
     end function c_posterior
     function c_fit(k, series, ntrials, opt, result) bind(c, name='latens_gp_fit')
       import :: c_ptr, c_size_t, c_int, series_c, latens_gp_fit_result
       type(c_ptr), value :: k
       type(series_c), intent(in) :: series
       integer(c_size_t), value :: ntrials
       type(c_ptr), value :: opt
       type(latens_gp_fit_result), intent(out) :: result
       integer(c_int) :: c_fit
     end function c_fit
  end interface
  integer :: failures
  failures = 0
  ! In a procedure, so that its allocatables are released and its handles finalised on
  ! return (valgrind then checks the final procedures too).
  call run()
  if (failures > 0) error stop 'test_gp: failures'
  print '(a)', 'test_gp: all checks passed'
contains
  subroutine run()
    character(:), allocatable :: srcdir
    real(c_double), allocatable, target :: tab(:, :), t(:), y(:)
    real(c_double), allocatable :: mean(:), var(:), cmean(:), cvar(:), dmean(:), dvar(:)
    real(c_double) :: theta(2), ctheta(2), noise, ll, dll, scale
    type(latens_gp_kernel) :: k, kc
    type(latens_gp_fit_result) :: res, cres
    type(series_c) :: s
    integer :: n, st, lenv

    call get_environment_variable('LATENS_SRCDIR', length=lenv)
    if (lenv > 0) then
       allocate(character(lenv) :: srcdir)
       call get_environment_variable('LATENS_SRCDIR', srcdir)
    else
       srcdir = '.'
    end if
    call latens_read_table(srcdir // '/data/nile.csv', tab)
    n = size(tab, 1)
    t = tab(:, 1)
    y = tab(:, 2) - sum(tab(:, 2)) / n ! the model is zero-mean
    print '(a,i0,a)', 'nile: ', n, ' years'

    ! Fit through the wrapper and through the C API on a clone: same optimum, bit for bit.
    call k%parse('matern32')
    kc = k
    call latens_gp_fit(k, t, y, res, stat=st)
    call check(st == LATENS_OK, 'latens_gp_fit status')
    s = series_c(int(n, c_size_t), c_loc(t), c_loc(y), c_null_ptr)
    call check(c_fit(kc%handle, s, 1_c_size_t, c_null_ptr, cres) == 0, 'C latens_gp_fit status')
    call k%get_params(theta)
    call kc%get_params(ctheta)
    noise = res%noise
    print '(a,3es14.6,a,l1)', 'fitted variance, lengthscale, noise: ', theta, noise, &
         ' converged ', res%converged /= 0
    call check(all(theta == ctheta) .and. noise == cres%noise .and. res%loglik == cres%loglik, &
         'wrapper fit equals the C API fit')
    call check(k%param_name(1) == 'variance' .and. k%param_name(2) == 'lengthscale', 'parameter names')

    ! Smooth: wrapper vs C API.
    allocate(mean(n), var(n), cmean(n), cvar(n))
    call latens_gp_posterior(k, noise, t, y, mean, var)
    call check(c_posterior(k%handle, noise, s, c_null_ptr, 0_c_size_t, cmean, cvar) == 0, &
         'C latens_gp_posterior status')
    print '(a,2es10.2)', 'posterior wrapper vs C API: max |diff| mean, var ', &
         maxval(abs(mean - cmean)), maxval(abs(var - cvar))
    call check(all(mean == cmean) .and. all(var == cvar), 'wrapper posterior equals the C API')

    ! Smooth: Kalman (library) vs dense (here).
    allocate(dmean(n), dvar(n))
    call dense_posterior(t, y, theta(1), theta(2), noise, dmean, dvar, dll)
    call latens_gp_loglik(k, noise, t, y, ll)
    scale = maxval(abs(y))
    print '(a,es10.2,a,es10.2,a)', 'posterior library vs dense: max |diff| mean ', &
         maxval(abs(mean - dmean)) / scale, ' (of max|y|), var ', &
         maxval(abs(var - dvar)) / theta(1), ' (of the variance)'
    print '(a,f14.6,a,f14.6)', 'log marginal likelihood: library ', ll, ' dense ', dll
    call check(maxval(abs(mean - dmean)) <= 1d-8 * scale, 'posterior mean = dense mean')
    call check(maxval(abs(var - dvar)) <= 1d-8 * theta(1), 'posterior variance = dense variance')
    call check(abs(ll - dll) <= 1d-8 * abs(dll), 'log marginal likelihood = dense')
    call check(abs(res%loglik - ll) <= 1d-10 * abs(ll), 'fit result loglik = loglik at the fit')
  end subroutine run

  include 'check.inc'

  ! Matérn-3/2: k(tau) = s2 (1 + sqrt(3)|tau|/l) exp(-sqrt(3)|tau|/l).
  pure real(c_double) function matern32(tau, s2, l)
    real(c_double), intent(in) :: tau, s2, l
    real(c_double) :: r
    r = sqrt(3d0) * abs(tau) / l
    matern32 = s2 * (1 + r) * exp(-r)
  end function matern32

  subroutine dense_posterior(t, y, s2, l, noise, mean, var, loglik)
    real(c_double), intent(in) :: t(:), y(:), s2, l, noise
    real(c_double), intent(out) :: mean(:), var(:), loglik
    real(c_double), allocatable :: kk(:, :), a(:, :), alpha(:), v(:)
    integer :: i, j, n
    n = size(t)
    allocate(kk(n, n), a(n, n), alpha(n), v(n))
    do j = 1, n
       do i = 1, n
          kk(i, j) = matern32(t(i) - t(j), s2, l)
       end do
    end do
    a = kk
    do i = 1, n
       a(i, i) = a(i, i) + noise
    end do
    call cholesky(a)
    alpha = y
    call chol_solve(a, alpha)
    mean = matmul(kk, alpha)
    loglik = -0.5d0 * dot_product(y, alpha) - n * 0.5d0 * log(2 * acos(-1d0))
    do i = 1, n
       loglik = loglik - log(a(i, i))
       v = kk(:, i)
       call chol_solve(a, v)
       var(i) = kk(i, i) - dot_product(kk(:, i), v)
    end do
  end subroutine dense_posterior

  ! In place: the lower triangle of a becomes L with a = L L^T.
  subroutine cholesky(a)
    real(c_double), intent(inout) :: a(:, :)
    integer :: j, n
    n = size(a, 1)
    do j = 1, n
       a(j, j) = sqrt(a(j, j) - dot_product(a(j, 1:j - 1), a(j, 1:j - 1)))
       a(j + 1:n, j) = (a(j + 1:n, j) - matmul(a(j + 1:n, 1:j - 1), a(j, 1:j - 1))) / a(j, j)
    end do
  end subroutine cholesky

  ! b <- (L L^T)^{-1} b.
  subroutine chol_solve(l, b)
    real(c_double), intent(in) :: l(:, :)
    real(c_double), intent(inout) :: b(:)
    integer :: i, n
    n = size(b)
    do i = 1, n
       b(i) = (b(i) - dot_product(l(i, 1:i - 1), b(1:i - 1))) / l(i, i)
    end do
    do i = n, 1, -1
       b(i) = (b(i) - dot_product(l(i + 1:n, i), b(i + 1:n))) / l(i, i)
    end do
  end subroutine chol_solve
end program test_gp
