! Smooth the Nile's annual flow (1871-1970) with a Matérn-3/2 Gaussian process: fit the
! hyperparameters by maximum marginal likelihood, then print the posterior mean and a 95%
! band every ten years.  Usage: gp_smooth [nile.csv] (default $LATENS_SRCDIR/data/nile.csv).
! Build against an installed latens:
!   gfortran -I$(pkg-config --variable=includedir latens)/latens gp_smooth.f90 \
!     -L$(pkg-config --variable=libdir latens) -llatens_fortran $(pkg-config --libs latens)
program gp_smooth
  use latens
  implicit none
  ! The work runs in a procedure, so that its allocatables are released and its handles
  ! finalised on return (main-program variables are never deallocated: leak checkers
  ! would report them).
  call run()
contains
  subroutine run()
    character(:), allocatable :: path
    real(latens_dp), allocatable :: tab(:, :), y(:), mean(:), var(:)
    real(latens_dp) :: ybar, theta(2)
    type(latens_gp_kernel) :: k
    type(latens_gp_fit_result) :: fit
    integer :: i, n

    path = data_path()
    call latens_read_table(path, tab)           ! columns time, value
    n = size(tab, 1)
    ybar = sum(tab(:, 2)) / n
    y = tab(:, 2) - ybar                          ! the GP is zero-mean

    call k%parse('matern32')
    call latens_gp_fit(k, tab(:, 1), y, fit)
    call k%get_params(theta)
    print '(a,f10.1,a,f6.2,a,f10.1,a,f9.2)', 'variance ', theta(1), '  lengthscale ', theta(2), &
         ' years  noise ', fit%noise, '  loglik ', fit%loglik

    allocate(mean(n), var(n))
    call latens_gp_posterior(k, fit%noise, tab(:, 1), y, mean, var)
    print '(a6,a8,a10,a20)', 'year', 'flow', 'smooth', '95% band'
    do i = 1, n, 10
       print '(f6.0,f8.0,f10.1,2f10.1)', tab(i, 1), tab(i, 2), ybar + mean(i), &
            ybar + mean(i) - 1.96_latens_dp * sqrt(var(i)), ybar + mean(i) + 1.96_latens_dp * sqrt(var(i))
    end do
  end subroutine run
  function data_path() result(p)
    character(:), allocatable :: p
    integer :: l
    call get_command_argument(1, length=l)
    if (l > 0) then
       allocate(character(l) :: p)
       call get_command_argument(1, p)
       return
    end if
    call get_environment_variable('LATENS_SRCDIR', length=l)
    if (l > 0) then
       allocate(character(l) :: p)
       call get_environment_variable('LATENS_SRCDIR', p)
       p = p // '/data/nile.csv'
    else
       p = 'nile.csv'
    end if
  end function data_path
end program gp_smooth
